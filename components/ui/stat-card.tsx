import * as React from "react";
import Link from "next/link";
import { cn } from "./cn";
import { StatusDot, type Tone } from "./badge";
import { numberFmt } from "./time";

/** 0.004 → "<1%", 0.996 → ">99%": never claim all or nothing when it is not. */
function formatShare(share: number): string {
  if (share > 0 && share < 0.01) return "<1%";
  if (share < 1 && share > 0.99) return ">99%";
  return `${Math.round(share * 100)}%`;
}

export function StatCard({
  label,
  value,
  tone,
  share,
  hint,
  href,
  testId,
  segments,
}: {
  label: string;
  value: number | undefined;
  tone?: Tone;
  /** 0..1, drawn as a thin bar */
  share?: number;
  hint?: React.ReactNode;
  href?: string;
  testId?: string;
  /** Instead of `share`: a stacked bar, e.g. online/offline/stale. */
  segments?: { tone: Tone; value: number; label: string }[];
}) {
  const barColor: Record<string, string> = {
    ok: "bg-ok",
    warn: "bg-warn",
    bad: "bg-bad",
    off: "bg-off",
    info: "bg-info",
    accent: "bg-primary",
    neutral: "bg-subtle-foreground",
  };
  const body = (
    <>
      <div className="flex items-center gap-2 text-xs font-medium text-muted-foreground">
        {tone ? <StatusDot tone={tone} /> : null}
        {label}
      </div>
      <div className="mt-2 flex items-baseline gap-2">
        <span className="text-2xl font-semibold tabular tracking-[-0.02em]" data-testid={testId}>
          {value === undefined ? <span className="inline-block h-7 w-12 animate-pulse rounded bg-muted align-middle" /> : numberFmt.format(value)}
        </span>
        {share !== undefined && value !== undefined ? (
          <span className="text-xs tabular text-subtle-foreground">{formatShare(share)}</span>
        ) : null}
      </div>
      <div className="mt-3 flex h-1 overflow-hidden rounded-full bg-muted">
        {segments && value ? (
          segments.map((seg) => (
            <div
              key={seg.label}
              title={`${seg.label}: ${numberFmt.format(seg.value)}`}
              className={cn("h-full transition-[width] duration-500", barColor[seg.tone])}
              style={{ width: `${(seg.value / value) * 100}%` }}
            />
          ))
        ) : share !== undefined ? (
          <div
            className={cn("h-full rounded-full transition-[width] duration-500", barColor[tone ?? "accent"])}
            style={{ width: `${Math.max(share > 0 ? 2 : 0, share * 100)}%` }}
          />
        ) : null}
      </div>
      {hint ? <div className="mt-2 truncate text-xs text-subtle-foreground">{hint}</div> : null}
    </>
  );
  const cls =
    "block rounded-lg border border-border bg-card px-4 py-3.5 shadow-[0_1px_2px_rgb(0_0_0/0.03)] transition-colors";
  return href ? (
    <Link href={href} className={cn(cls, "hover:border-border-strong hover:bg-muted/30")}>
      {body}
    </Link>
  ) : (
    <div className={cls}>{body}</div>
  );
}
