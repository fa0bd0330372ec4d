import * as React from "react";
import { cn } from "./cn";

/** The console's one status colour language. */
export type Tone = "ok" | "warn" | "bad" | "off" | "info" | "neutral" | "accent";

const toneClass: Record<Tone, string> = {
  ok: "bg-ok-soft text-ok border-ok/20",
  warn: "bg-warn-soft text-warn border-warn/25",
  bad: "bg-bad-soft text-bad border-bad/20",
  off: "bg-off-soft text-off border-off/20",
  info: "bg-info-soft text-info border-info/20",
  neutral: "bg-muted text-muted-foreground border-border",
  accent: "bg-accent text-accent-foreground border-primary/20",
};

const dotClass: Record<Tone, string> = {
  ok: "bg-ok text-ok",
  warn: "bg-warn text-warn",
  bad: "bg-bad text-bad",
  off: "bg-off text-off",
  info: "bg-info text-info",
  neutral: "bg-subtle-foreground text-subtle-foreground",
  accent: "bg-primary text-primary",
};

export function Badge({
  tone = "neutral",
  className,
  mono,
  ...props
}: React.HTMLAttributes<HTMLSpanElement> & { tone?: Tone; mono?: boolean }) {
  return (
    <span
      className={cn(
        "inline-flex h-5 max-w-full items-center gap-1 truncate rounded border px-1.5 text-[11px] font-medium leading-none whitespace-nowrap",
        mono && "font-mono text-[11px] font-normal",
        toneClass[tone],
        className,
      )}
      {...props}
    />
  );
}

export function StatusDot({ tone, pulse, className, label }: { tone: Tone; pulse?: boolean; className?: string; label?: string }) {
  return (
    <span
      role={label ? "img" : undefined}
      aria-label={label}
      aria-hidden={label ? undefined : true}
      className={cn("inline-block size-2 shrink-0 rounded-full", dotClass[tone], pulse && "animate-pulse-ring", className)}
    />
  );
}

/** A dot plus a word: the way every status is shown in tables and headers. */
export function StatusBadge({ tone, children, pulse, className }: { tone: Tone; children: React.ReactNode; pulse?: boolean; className?: string }) {
  return (
    <Badge tone={tone} className={cn("gap-1.5 pl-1.5", className)}>
      <StatusDot tone={tone} pulse={pulse} className="size-1.5" />
      {children}
    </Badge>
  );
}

export function Kbd({ className, ...props }: React.HTMLAttributes<HTMLElement>) {
  return (
    <kbd
      className={cn(
        "inline-flex h-[18px] min-w-[18px] items-center justify-center rounded border border-border-strong bg-muted px-1 font-mono text-[10px] font-medium text-muted-foreground",
        className,
      )}
      {...props}
    />
  );
}
