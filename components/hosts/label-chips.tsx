import { cn } from "../ui/cn";
import { MoreInTooltip } from "../ui/tooltip";

export function LabelChip({ k, v, className }: { k: string; v: string; className?: string }) {
  return (
    <span
      className={cn(
        "inline-flex h-5 max-w-[14rem] items-center truncate rounded border border-border bg-muted/60 px-1.5 font-mono text-[11px] leading-none",
        className,
      )}
    >
      <span className="text-muted-foreground">{k}</span>
      {v !== "" ? (
        <>
          <span className="px-px text-subtle-foreground">=</span>
          <span className="truncate text-foreground">{v}</span>
        </>
      ) : null}
    </span>
  );
}

/** A few labels inline, the rest behind "+N" with a tooltip. */
export function LabelList({ labels, max = 3 }: { labels: Record<string, string>; max?: number }) {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return <span className="text-subtle-foreground">—</span>;
  const shown = entries.slice(0, max);
  const rest = entries.slice(max);
  return (
    <span className="flex min-w-0 items-center gap-1 overflow-hidden">
      {shown.map(([k, v]) => (
        <LabelChip key={k} k={k} v={v} />
      ))}
      {rest.length > 0 ? (
        <MoreInTooltip count={rest.length}>
          <span className="flex flex-col gap-1 py-0.5">
            {rest.map(([k, v]) => (
              <LabelChip key={k} k={k} v={v} />
            ))}
          </span>
        </MoreInTooltip>
      ) : null}
    </span>
  );
}
