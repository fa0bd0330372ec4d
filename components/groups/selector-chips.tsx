import * as React from "react";
import { Cpu, Globe, Layers, ListChecks } from "lucide-react";
import type { GroupSelector } from "@/lib/api/schemas";
import { LabelChip } from "../hosts/label-chips";
import { Badge } from "../ui/badge";
import { MoreInTooltip } from "../ui/tooltip";
import { cn } from "../ui/cn";
import { numberFmt } from "../ui/time";

function Chip({ icon, children, title, className }: { icon: React.ReactNode; children: React.ReactNode; title?: string; className?: string }) {
  return (
    <span
      title={title}
      className={cn(
        "inline-flex h-5 max-w-[16rem] items-center gap-1 truncate rounded border border-border bg-muted/60 px-1.5 text-[11px] leading-none text-foreground [&_svg]:size-3 [&_svg]:shrink-0 [&_svg]:text-subtle-foreground",
        className,
      )}
    >
      {icon}
      {children}
    </span>
  );
}

/**
 * A group's selector as chips: labels (all must match), kernel releases and distros (any of),
 * explicit hosts. `max` keeps a table cell to one line; the rest is behind "+N".
 */
export function SelectorChips({ selector, max, className }: { selector: GroupSelector; max?: number; className?: string }) {
  if (selector.all) {
    return (
      <span className={cn("inline-flex", className)} data-testid="selector-chips">
        <Chip icon={<Globe />} className="border-primary/20 bg-accent text-accent-foreground">
          All hosts
        </Chip>
      </span>
    );
  }
  const chips: React.ReactNode[] = [];
  for (const [k, v] of Object.entries(selector.labels ?? {}).sort(([a], [b]) => a.localeCompare(b))) chips.push(<LabelChip key={`l:${k}`} k={k} v={v} />);
  const releases = selector.kernelReleases ?? [];
  if (releases.length > 0) {
    chips.push(
      <Chip key="k" icon={<Cpu />} title={releases.join(", ")} className="font-mono">
        {releases.length === 1 ? releases[0] : `${releases.length} kernel releases`}
      </Chip>,
    );
  }
  for (const d of selector.distros ?? []) {
    chips.push(
      <Chip key={`d:${d}`} icon={<Layers />} className="font-mono">
        {d}
      </Chip>,
    );
  }
  if (selector.hostIds?.length) {
    chips.push(
      <Chip key="h" icon={<ListChecks />}>
        {numberFmt.format(selector.hostIds.length)} listed {selector.hostIds.length === 1 ? "host" : "hosts"}
      </Chip>,
    );
  }
  const shown = max ? chips.slice(0, max) : chips;
  const rest = chips.length - shown.length;
  return (
    <span className={cn("inline-flex min-w-0 flex-wrap items-center gap-1", max && "flex-nowrap overflow-hidden", className)} data-testid="selector-chips">
      {shown}
      {rest > 0 ? (
        <MoreInTooltip count={rest}>
          <span className="flex flex-wrap gap-1 py-0.5">{chips.slice(shown.length)}</span>
        </MoreInTooltip>
      ) : null}
    </span>
  );
}

/** Kernel releases with host counts as compact mono chips, biggest first. */
export function ReleaseChips({ releases, max = 3, className }: { releases: { kernelRelease: string; hosts: number }[]; max?: number; className?: string }) {
  if (releases.length === 0) return <span className="text-subtle-foreground">—</span>;
  const shown = releases.slice(0, max);
  const rest = releases.slice(max);
  return (
    <span className={cn("flex min-w-0 items-center gap-1 overflow-hidden", className)}>
      {shown.map((r) => (
        <Badge key={r.kernelRelease} mono className="min-w-0 shrink gap-1.5" title={`${r.kernelRelease}: ${numberFmt.format(r.hosts)} hosts`}>
          <span className="truncate">{r.kernelRelease}</span>
          <span className="font-sans tabular text-subtle-foreground">{numberFmt.format(r.hosts)}</span>
        </Badge>
      ))}
      {rest.length > 0 ? (
        <MoreInTooltip count={rest.length}>
          <ul className="space-y-0.5 py-0.5 font-mono text-[11px]">
            {rest.map((r) => (
              <li key={r.kernelRelease} className="flex justify-between gap-4">
                <span>{r.kernelRelease}</span>
                <span className="tabular text-subtle-foreground">{numberFmt.format(r.hosts)}</span>
              </li>
            ))}
          </ul>
        </MoreInTooltip>
      ) : null}
    </span>
  );
}
