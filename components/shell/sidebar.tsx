"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { cn } from "../ui/cn";
import { Tooltip } from "../ui/tooltip";
import { Logo } from "./logo";
import { NAV, SECTION_LABEL, type NavItem } from "./nav";
import { UserMenu } from "./user-menu";
import { useFleetSummary } from "../hooks/use-hosts";
import { numberFmt } from "../ui/time";

function isActive(pathname: string, href: string): boolean {
  if (href === "/hosts") return pathname === "/hosts" || (pathname.startsWith("/hosts/") && pathname !== "/hosts/add");
  return pathname === href || pathname.startsWith(href + "/");
}

function HostCount() {
  const { data } = useFleetSummary();
  if (!data) return null;
  return <span className="ml-auto text-[11px] tabular text-subtle-foreground">{numberFmt.format(data.total)}</span>;
}

function NavLink({ item, active }: { item: NavItem; active: boolean }) {
  const Icon = item.icon;
  const base = "group flex h-8 items-center gap-2.5 rounded-md px-2.5 text-[13px] font-medium transition-colors";
  if (item.soon) {
    return (
      <Tooltip content={`${item.label} arrive in an upcoming release`} side="right">
        <span
          aria-disabled="true"
          tabIndex={0}
          className={cn(base, "cursor-default text-subtle-foreground/80 focus-visible:outline-offset-[-2px]")}
        >
          <Icon className="size-4 opacity-70" />
          {item.label}
          <span className="ml-auto rounded border border-border px-1 py-px text-[9.5px] font-semibold uppercase tracking-wider text-subtle-foreground">
            soon
          </span>
        </span>
      </Tooltip>
    );
  }
  return (
    <Link
      href={item.href}
      aria-current={active ? "page" : undefined}
      className={cn(
        base,
        "focus-visible:outline-offset-[-2px]",
        active
          ? "bg-accent text-accent-foreground shadow-[inset_0_0_0_1px] shadow-primary/15"
          : "text-muted-foreground hover:bg-muted hover:text-foreground",
      )}
    >
      <Icon className={cn("size-4", active ? "text-primary" : "text-subtle-foreground group-hover:text-muted-foreground")} />
      {item.label}
      {item.href === "/hosts" ? <HostCount /> : null}
    </Link>
  );
}

export function Sidebar() {
  const pathname = usePathname() ?? "";
  const sections = ["fleet", "patching", "admin"] as const;
  return (
    // The outer column carries the background and border down the whole page; the inner one sticks.
    <div className="w-[224px] shrink-0 border-r border-border bg-sidebar">
    <aside className="sticky top-0 flex h-screen flex-col">
      <div className="flex h-12 items-center border-b border-border px-4">
        <Link href="/fleet" className="rounded-md focus-visible:outline-offset-4" aria-label="Splicer: fleet overview">
          <Logo />
        </Link>
      </div>
      <nav aria-label="Main" className="scrollbar-thin flex-1 overflow-y-auto px-2.5 py-3">
        {sections.map((s) => (
          <div key={s} className="mb-4">
            <div className="mb-1 px-2.5 text-[10.5px] font-semibold uppercase tracking-wider text-subtle-foreground">
              {SECTION_LABEL[s]}
            </div>
            <ul className="flex flex-col gap-0.5">
              {NAV.filter((n) => n.section === s).map((item) => (
                <li key={item.href}>
                  <NavLink item={item} active={isActive(pathname, item.href)} />
                </li>
              ))}
            </ul>
          </div>
        ))}
      </nav>
      <div className="border-t border-border p-2.5">
        <UserMenu />
      </div>
    </aside>
    </div>
  );
}
