"use client";
import * as React from "react";
import { useRouter } from "next/navigation";
import { CornerDownLeft, Search, Server } from "lucide-react";
import { useHostSearch } from "../hooks/use-hosts";
import { Kbd } from "../ui/badge";
import { HostStateDot } from "../hosts/host-state-badge";
import { cn } from "../ui/cn";
import { Spinner } from "../ui/button";

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = React.useState(value);
  React.useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

function isTypingTarget(el: EventTarget | null): boolean {
  const t = el as HTMLElement | null;
  if (!t) return false;
  return t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName);
}

/**
 * Top-bar search over hosts ("/" or Ctrl/⌘-K). Shows a few matches as you type; Enter opens
 * the highlighted host, or the Hosts page filtered by the text.
 */
export function GlobalSearch() {
  const router = useRouter();
  const inputRef = React.useRef<HTMLInputElement>(null);
  const [q, setQ] = React.useState("");
  const [open, setOpen] = React.useState(false);
  const [active, setActive] = React.useState(-1);
  const dq = useDebounced(q.trim(), 150);
  const { data, isFetching } = useHostSearch(dq);
  const results = dq ? (data?.items ?? []) : [];
  const listId = "global-search-results";

  React.useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.key === "k" || e.key === "K") && (e.metaKey || e.ctrlKey)) {
        e.preventDefault();
        inputRef.current?.focus();
        inputRef.current?.select();
      } else if (e.key === "/" && !isTypingTarget(e.target) && !e.metaKey && !e.ctrlKey && !e.altKey) {
        e.preventDefault();
        inputRef.current?.focus();
        inputRef.current?.select();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  React.useEffect(() => setActive(-1), [dq]);

  const goAll = () => {
    const text = q.trim();
    router.push(text ? `/hosts?q=${encodeURIComponent(text)}` : "/hosts");
    setOpen(false);
    inputRef.current?.blur();
  };
  const goHost = (id: string) => {
    router.push(`/hosts/${id}`);
    setOpen(false);
    setQ("");
    inputRef.current?.blur();
  };

  const onKeyDown = (e: React.KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      setOpen(true);
      setActive((a) => Math.min(a + 1, results.length - 1));
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setActive((a) => Math.max(a - 1, -1));
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (active >= 0 && results[active]) goHost(results[active].id);
      else goAll();
    } else if (e.key === "Escape") {
      if (open && q) setOpen(false);
      else inputRef.current?.blur();
    }
  };

  const showPanel = open && q.trim().length > 0;

  return (
    <div className="relative w-full max-w-[480px]">
      <div className="relative">
        <Search className="pointer-events-none absolute left-2.5 top-1/2 size-3.5 -translate-y-1/2 text-subtle-foreground" />
        <input
          ref={inputRef}
          type="search"
          role="combobox"
          aria-expanded={showPanel}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={active >= 0 ? `gs-opt-${active}` : undefined}
          aria-label="Search hosts"
          placeholder="Search hosts by name, kernel, IP, machine id…"
          value={q}
          onChange={(e) => {
            setQ(e.target.value);
            setOpen(true);
          }}
          onFocus={() => setOpen(true)}
          onBlur={() => setTimeout(() => setOpen(false), 120)}
          onKeyDown={onKeyDown}
          className={cn(
            "h-8 w-full rounded-md border border-border bg-muted/60 pl-8 pr-16 text-[13px] placeholder:text-subtle-foreground",
            "transition-colors hover:border-border-strong focus-visible:border-ring focus-visible:bg-card focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring/25",
            "[&::-webkit-search-cancel-button]:hidden",
          )}
        />
        <span className="pointer-events-none absolute right-2 top-1/2 flex -translate-y-1/2 items-center gap-1">
          {isFetching && dq ? <Spinner className="size-3 text-subtle-foreground" /> : null}
          <Kbd>/</Kbd>
          <Kbd>Ctrl K</Kbd>
        </span>
      </div>
      {showPanel ? (
        <div
          id={listId}
          role="listbox"
          aria-label="Matching hosts"
          className="absolute left-0 right-0 top-full z-40 mt-1.5 animate-pop-in overflow-hidden rounded-lg border border-border-strong bg-card shadow-2xl shadow-black/15"
        >
          {results.length > 0 ? (
            <div className="px-1.5 pb-1 pt-1.5">
              <div className="px-2 pb-1 text-[10.5px] font-semibold uppercase tracking-wider text-subtle-foreground">Hosts</div>
              {results.map((h, i) => (
                <button
                  key={h.id}
                  id={`gs-opt-${i}`}
                  role="option"
                  aria-selected={i === active}
                  type="button"
                  tabIndex={-1}
                  onMouseDown={(e) => e.preventDefault()}
                  onMouseEnter={() => setActive(i)}
                  onClick={() => goHost(h.id)}
                  className={cn("flex w-full items-center gap-2.5 rounded-md px-2 py-1.5 text-left", i === active && "bg-muted")}
                >
                  <Server className="size-3.5 text-subtle-foreground" />
                  <HostStateDot host={h} />
                  <span className="min-w-0 flex-1 truncate font-medium">{h.hostname}</span>
                  <span className="truncate font-mono text-[11px] text-muted-foreground">{h.kernelRelease}</span>
                </button>
              ))}
            </div>
          ) : dq && !isFetching ? (
            <div className="px-3.5 py-3 text-[13px] text-muted-foreground">No host matches “{dq}”.</div>
          ) : null}
          <button
            type="button"
            tabIndex={-1}
            onMouseDown={(e) => e.preventDefault()}
            onClick={goAll}
            className="flex w-full items-center gap-2 border-t border-border bg-muted/40 px-3.5 py-2 text-left text-xs text-muted-foreground hover:text-foreground"
          >
            <Search className="size-3.5" />
            Search all hosts for <span className="font-medium text-foreground">“{q.trim()}”</span>
            <CornerDownLeft className="ml-auto size-3.5" />
          </button>
        </div>
      ) : null}
    </div>
  );
}
