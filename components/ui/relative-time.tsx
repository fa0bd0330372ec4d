"use client";
import * as React from "react";
import { formatExact, formatRelative } from "./time";
import { cn } from "./cn";

// One shared clock for every RelativeTime on the page: re-render them all every 15 s.
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;
let now = Date.now();
function subscribe(cb: () => void) {
  listeners.add(cb);
  if (!timer) {
    timer = setInterval(() => {
      now = Date.now();
      listeners.forEach((l) => l());
    }, 15_000);
  }
  return () => {
    listeners.delete(cb);
    if (listeners.size === 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
  };
}
const getNow = () => now;
// On the server and during hydration render the exact timestamp's date only: never mismatches.
const getServerNow = () => 0;

export function useNow(): number {
  return React.useSyncExternalStore(subscribe, getNow, getServerNow);
}

/** "5 min ago" with the exact time on hover (title) and in <time dateTime>. */
export function RelativeTime({
  date,
  className,
  fallback = "never",
}: {
  date: string | Date | null | undefined;
  className?: string;
  fallback?: string;
}) {
  const t = useNow();
  if (!date) return <span className={cn("text-subtle-foreground", className)}>{fallback}</span>;
  const d = typeof date === "string" ? new Date(date) : date;
  if (Number.isNaN(d.getTime())) return <span className={className}>—</span>;
  const label = t === 0 ? d.toISOString().slice(0, 10) : formatRelative(d, Math.max(t, Date.now()));
  return (
    <time dateTime={d.toISOString()} title={t === 0 ? d.toISOString() : formatExact(d)} className={cn("whitespace-nowrap tabular", className)}>
      {label}
    </time>
  );
}

/** The cell of a table column holding a timestamp: small and muted, like every date in a list. */
export function relativeTimeCell(c: { getValue: () => string | Date | null | undefined }) {
  return <RelativeTime date={c.getValue()} className="text-xs text-muted-foreground" />;
}
