"use client";
import * as React from "react";
import Link from "next/link";
import { createColumnHelper } from "@tanstack/react-table";
import { ArrowRight, ChevronRight, ShieldAlert, ShieldCheck } from "lucide-react";
import type { ExposureItem } from "@/lib/api/schemas";
import { PageHeader } from "../ui/page-header";
import { Card } from "../ui/card";
import { QueryTable } from "../ui/data-table";
import { EmptyState } from "../ui/empty-state";
import { buttonClass } from "../ui/button";
import { cn } from "../ui/cn";
import { numberFmt } from "../ui/time";
import { StatCard } from "../ui/stat-card";
import { SeverityBadge } from "../patches/patch-badges";
import { useExposure } from "../hooks/use-exposure";

/** Where "show me these hosts" goes: the hosts list, filtered to those still missing the patch. */
export function exposedHostsHref(item: Pick<ExposureItem, "patches">, extra: Record<string, string> = {}): string {
  const sp = new URLSearchParams({ missing: item.patches[0]?.id ?? "", ...extra });
  return `/hosts?${sp.toString()}`;
}

/** Exposed (red) and patched (green) out of the targeted hosts. */
export function ExposureBar({ exposed, targeted, className }: { exposed: number; targeted: number; className?: string }) {
  const patched = Math.max(0, targeted - exposed);
  return (
    <div className={cn("flex h-1.5 overflow-hidden rounded-full bg-muted", className)} role="img" aria-label={`${exposed} of ${targeted} exposed`}>
      <div className="h-full bg-bad transition-[width] duration-500" style={{ width: `${targeted ? (exposed / targeted) * 100 : 0}%` }} />
      <div className="h-full bg-ok/70 transition-[width] duration-500" style={{ width: `${targeted ? (patched / targeted) * 100 : 0}%` }} />
    </div>
  );
}

function BreakdownChips({
  item,
  rows,
  max,
}: {
  item: ExposureItem;
  rows: BreakdownRow[];
  max: number;
}) {
  const shown = rows.filter((r) => r.exposed > 0).slice(0, max);
  const rest = rows.filter((r) => r.exposed > 0).length - shown.length;
  if (shown.length === 0) return <span className="text-xs text-ok">none exposed</span>;
  return (
    <span className="flex min-w-0 items-center gap-1 overflow-hidden" data-testid="exposure-chips">
      {shown.map((r) => (
        <Link
          key={r.key}
          href={exposedHostsHref(item, r.param)}
          title={`${r.label}: ${r.exposed} of ${r.targeted} exposed`}
          className="inline-flex h-5 min-w-0 max-w-[11rem] items-center gap-1.5 rounded border border-border bg-muted/60 px-1.5 text-[11px] hover:border-border-strong hover:bg-muted"
        >
          <span className={cn("truncate", r.mono && "font-mono")}>{r.label}</span>
          <span className="shrink-0 tabular text-bad">{numberFmt.format(r.exposed)}</span>
        </Link>
      ))}
      {rest > 0 ? <span className="shrink-0 px-1 text-[11px] text-muted-foreground">+{rest}</span> : null}
    </span>
  );
}

interface BreakdownRow {
  key: string;
  label: string;
  exposed: number;
  targeted: number;
  /** Of the exposed, those only a reboot fixes (known per release, not per group). */
  rebootRequired?: number;
  param: Record<string, string>;
  mono?: boolean;
}

const releaseRows = (i: ExposureItem): BreakdownRow[] =>
  [...i.byRelease].sort((a, b) => b.exposed - a.exposed).map((r) => ({ key: r.kernelRelease, label: r.kernelRelease, exposed: r.exposed, targeted: r.targeted, rebootRequired: r.rebootRequired, param: { kernel: r.kernelRelease }, mono: true }));
const groupRows = (i: ExposureItem): BreakdownRow[] =>
  [...i.byGroup].sort((a, b) => b.exposed - a.exposed).map((g) => ({ key: g.groupId, label: g.name, exposed: g.exposed, targeted: g.targeted, param: { group: g.groupId } }));

const col = createColumnHelper<ExposureItem>();

function BreakdownTable({ title, item, rows }: { title: string; item: ExposureItem; rows: BreakdownRow[] }) {
  return (
    <div className="min-w-0">
      <h4 className="mb-1.5 text-[11px] font-medium uppercase tracking-wide text-subtle-foreground">{title}</h4>
      {rows.length === 0 ? (
        <p className="text-xs text-muted-foreground">None.</p>
      ) : (
        <ul className="space-y-0.5">
          {rows.map((r) => (
            <li key={r.key}>
              <Link href={exposedHostsHref(item, r.param)} className="group grid grid-cols-[minmax(0,14rem)_minmax(0,1fr)_5rem] items-center gap-3 rounded px-1.5 py-1 text-xs hover:bg-card">
                <span className={cn("truncate group-hover:text-primary group-hover:underline", r.mono && "font-mono")}>{r.label}</span>
                <ExposureBar exposed={r.exposed} targeted={r.targeted} />
                <span className="text-right tabular text-muted-foreground">
                  <span className={r.exposed > 0 ? "text-bad" : "text-ok"}>{numberFmt.format(r.exposed)}</span>/{numberFmt.format(r.targeted)}
                  {r.rebootRequired ? <span className="block text-[10px] text-warn">{numberFmt.format(r.rebootRequired)} reboot</span> : null}
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function ExposureView() {
  const q = useExposure(500);
  const [expanded, setExpanded] = React.useState<string | null>(null);
  const data = q.data;
  const items = data?.items ?? [];
  const open = items.filter((i) => i.exposed > 0);
  const severe = open.filter((i) => i.severity === "critical" || i.severity === "high").length;

  const columns = React.useMemo(
    () => [
      col.display({
        id: "chevron",
        size: 28,
        header: () => <span className="sr-only">Expand</span>,
        cell: (c) => <ChevronRight className={cn("size-3.5 text-subtle-foreground transition-transform", expanded === c.row.id && "rotate-90")} />,
      }),
      col.accessor("severity", { header: "Severity", size: 92, cell: (c) => <SeverityBadge severity={c.getValue()} /> }),
      col.accessor("cve", {
        header: "CVE",
        size: 140,
        cell: (c) => (
          <span className="font-mono text-xs font-medium text-foreground" data-testid="exposure-cve">
            {c.getValue()}
          </span>
        ),
      }),
      col.accessor("patches", {
        header: "Fixed by",
        size: 0,
        cell: (c) => (
          <span className="flex min-w-0 flex-col">
            {c.getValue().map((p) => (
              <Link key={p.id} href={`/patches/${p.id}`} className="truncate text-[13px] hover:underline" title={p.title}>
                {p.title}
              </Link>
            ))}
          </span>
        ),
      }),
      col.accessor("exposed", {
        header: "Exposed",
        size: 190,
        cell: (c) => (
          <Link href={exposedHostsHref(c.row.original)} className="flex items-center gap-2.5" data-testid="exposure-exposed" title="Show the exposed hosts">
            <ExposureBar exposed={c.getValue()} targeted={c.row.original.targeted} className="w-20 shrink-0" />
            <span className="text-xs tabular text-muted-foreground">
              <span className={cn("font-medium", c.getValue() > 0 ? "text-bad" : "text-ok")}>{numberFmt.format(c.getValue())}</span> of{" "}
              {numberFmt.format(c.row.original.targeted)}
              {c.row.original.rebootRequired > 0 ? (
                <span className="block text-[11px] text-warn" data-testid="exposure-reboot">
                  {numberFmt.format(c.row.original.rebootRequired)} need a reboot
                </span>
              ) : null}
            </span>
          </Link>
        ),
      }),
      col.display({ id: "byRelease", header: "By kernel release", size: 260, cell: (c) => <BreakdownChips item={c.row.original} rows={releaseRows(c.row.original)} max={2} /> }),
      col.display({ id: "byGroup", header: "By group", size: 220, cell: (c) => <BreakdownChips item={c.row.original} rows={groupRows(c.row.original)} max={2} /> }),
    ],
    [expanded],
  );

  return (
    <>
      <PageHeader
        title="Exposure"
        description="For every CVE a staged patch fixes: the hosts it targets that do not have the patch live yet, by kernel release and by group; those no live patch can fix need a reboot. A host whose kernel's build found the fix already there is not exposed."
        actions={
          <Link href="/groups" className={buttonClass("secondary")}>
            Roll out to a group <ArrowRight />
          </Link>
        }
      />
      <section aria-label="Exposure totals" className="mb-4 grid grid-cols-2 gap-3 lg:grid-cols-5">
        <StatCard
          label="Exposed hosts"
          value={data?.exposedHosts}
          tone="bad"
          share={data && data.activeHosts ? data.exposedHosts / data.activeHosts : undefined}
          hint={data ? `of ${numberFmt.format(data.activeHosts)} active hosts lack a staged fix` : undefined}
          testId="stat-exposed"
        />
        <StatCard
          label="Reboot required"
          value={data?.rebootHosts}
          tone="warn"
          share={data && data.activeHosts ? data.rebootHosts / data.activeHosts : undefined}
          hint="exposed to a CVE no live patch can fix on their kernel: only a reboot into a fixed one"
          testId="stat-reboot"
        />
        <StatCard
          label="Protected hosts"
          value={data ? data.activeHosts - data.exposedHosts : undefined}
          tone="ok"
          share={data && data.activeHosts ? (data.activeHosts - data.exposedHosts) / data.activeHosts : undefined}
          hint="every staged fix that targets them is live"
        />
        <StatCard label="Open CVEs" value={data ? open.length : undefined} tone="warn" hint={data ? `${items.length - open.length} fully patched` : undefined} />
        <StatCard label="Critical or high" value={data ? severe : undefined} tone="bad" hint="open CVEs of the worst severities" />
      </section>
      <Card className="overflow-hidden">
        <QueryTable
          query={q}
          errorTitle="Could not compute exposure"
          caption="Exposure by CVE"
          fixed
          columns={columns}
          loading={q.isLoading}
          skeletonRows={6}
          getRowId={(i) => i.cve}
          onRowClick={(row) => setExpanded((x) => (x === row.id ? null : row.id))}
          rowClassName={(row) => (row.original.exposed === 0 ? "opacity-70" : undefined)}
          renderExpanded={(row) =>
            expanded === row.id ? (
              <div className="grid gap-6 px-1 lg:grid-cols-2" data-testid="exposure-breakdown">
                <BreakdownTable title="By kernel release" item={row.original} rows={releaseRows(row.original)} />
                <BreakdownTable title="By group" item={row.original} rows={groupRows(row.original)} />
              </div>
            ) : null
          }
          className="max-h-[calc(100vh-18rem)] [&_td]:h-11"
          empty={
            <EmptyState
              icon={data && data.activeHosts > 0 ? <ShieldCheck /> : <ShieldAlert />}
              title="No CVEs to track yet"
              action={
                <Link href="/patches" className={buttonClass("secondary")}>
                  Patches <ArrowRight />
                </Link>
              }
            >
              Exposure is computed from the CVE ids of staged patches. Stage a patch with its CVEs to see which hosts still lack it.
            </EmptyState>
          }
        />
      </Card>
    </>
  );
}
