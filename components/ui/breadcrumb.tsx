import Link from "next/link";
import { ChevronRight } from "lucide-react";

/** "<Section> › <current>" above a page under a section. */
export function Breadcrumb({ href, section, current }: { href: string; section: string; current: React.ReactNode }) {
  return (
    <nav aria-label="Breadcrumb" className="flex min-w-0 items-center gap-1">
      <Link href={href} className="hover:text-foreground hover:underline">
        {section}
      </Link>
      <ChevronRight className="size-3 shrink-0" />
      <span className="truncate text-foreground">{current}</span>
    </nav>
  );
}
