"use client";
import * as React from "react";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { createColumnHelper } from "@tanstack/react-table";
import { ArrowRight, Rocket, SearchX } from "lucide-react";
import type { RolloutStatus, RolloutSummary } from "@/lib/api/schemas";
import { PageHeader } from "../ui/page-header";
import { Card } from "../ui/card";
import { QueryTable } from "../ui/data-table";
import { EmptyState } from "../ui/empty-state";
import { RelativeTime, relativeTimeCell } from "../ui/relative-time";
import { Button, buttonClass } from "../ui/button";
import { cn } from "../ui/cn";
import { RemovableChip } from "../ui/chip";
import { formatDuration, numberFmt } from "../ui/time";
import { Pagination } from "../ui/pagination";
import { RollbackBadge, RolloutProgress, RolloutStatusBadge } from "./rollout-state";
import { useRollouts } from "../hooks/use-rollouts";
import { ACTIVE_ROLLOUT_STATUSES } from "@/lib/api/schemas";

const col = createColumnHelper<RolloutSummary>();

function took(r: RolloutSummary): string | null {
  if (!r.finishedAt) return null;
  return formatDuration((new Date(r.finishedAt).getTime() - new Date(r.createdAt).getTime()) / 1000);
}

const columns = [
  col.accessor("number", {
    header: "#",
    size: 64,
    cell: (c) => (
      <Link href={`/rollouts/${c.row.original.id}`} className="font-mono text-xs text-muted-foreground hover:text-foreground hover:underline" data-testid="rollout-link">
        #{c.getValue()}
      </Link>
    ),
  }),
  col.accessor((r) => r.patch.title, {
    id: "patch",
    header: "Patch",
    size: 0,
    cell: (c) => (
      <span className="flex min-w-0 items-center gap-2">
        {c.row.original.kind === "rollback" ? <RollbackBadge /> : null}
        <span className="truncate font-medium text-foreground" title={c.getValue()}>
          {c.getValue()}
        </span>
      </span>
    ),
  }),
  col.accessor((r) => r.group.name, {
    id: "group",
    header: "Group",
    size: 140,
    cell: (c) =>
      c.row.original.group.id ? (
        <Link href={`/groups/${c.row.original.group.id}`} className="block truncate text-muted-foreground hover:text-foreground hover:underline">
          {c.getValue()}
        </Link>
      ) : (
        <span className="block truncate text-subtle-foreground" title="The group was deleted">
          {c.getValue()}
        </span>
      ),
  }),
  col.accessor("status", { header: "Status", size: 140, cell: (c) => <RolloutStatusBadge rollout={c.row.original} /> }),
  col.display({ id: "progress", header: "Progress", size: 280, cell: (c) => <RolloutProgress r={c.row.original} /> }),
  col.accessor("createdBy", { header: "Started by", size: 104, cell: (c) => <span className="block truncate text-muted-foreground">{c.getValue()}</span> }),
  col.accessor("createdAt", { header: "Started", size: 92, cell: relativeTimeCell }),
  col.accessor("finishedAt", {
    header: "Finished",
    size: 112,
    meta: { align: "right" },
    cell: (c) =>
      c.getValue() ? (
        <span className="flex flex-col items-end text-xs leading-tight text-muted-foreground">
          <RelativeTime date={c.getValue()} />
          <span className="text-[11px] text-subtle-foreground">took {took(c.row.original)}</span>
        </span>
      ) : (
        <span className="text-xs text-subtle-foreground">—</span>
      ),
  }),
];

const STATUS_FILTERS: { value: string; label: string; statuses?: RolloutStatus[] }[] = [
  { value: "all", label: "All" },
  { value: "active", label: "Active", statuses: [...ACTIVE_ROLLOUT_STATUSES] },
  { value: "paused", label: "Paused", statuses: ["paused"] },
  { value: "completed", label: "Completed", statuses: ["completed"] },
  { value: "aborted", label: "Aborted", statuses: ["aborted"] },
];
const PAGE_SIZES = [25, 50, 100];

export function RolloutsView() {
  const sp = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const statusKey = STATUS_FILTERS.some((f) => f.value === sp.get("status")) ? sp.get("status")! : "all";
  const limit = PAGE_SIZES.includes(Number(sp.get("limit"))) ? Number(sp.get("limit")) : 50;
  const page = Math.max(1, Math.floor(Number(sp.get("page")) || 1));
  const patchId = sp.get("patchId") || undefined;
  const groupId = sp.get("groupId") || undefined;
  const q = useRollouts({
    status: STATUS_FILTERS.find((f) => f.value === statusKey)?.statuses,
    patchId,
    groupId,
    limit,
    offset: (page - 1) * limit,
  });
  const update = React.useCallback(
    (patch: Record<string, string | undefined>) => {
      const next = new URLSearchParams(sp.toString());
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined || v === "") next.delete(k);
        else next.set(k, v);
      }
      if (!("page" in patch)) next.delete("page");
      const qs = next.toString();
      router.replace(qs ? `${pathname}?${qs}` : pathname, { scroll: false });
    },
    [sp, router, pathname],
  );
  const items = q.data?.items ?? [];
  const filtered = statusKey !== "all" || !!patchId || !!groupId;
  const scoped = patchId || groupId ? items[0] : undefined;

  return (
    <>
      <PageHeader
        title="Rollouts"
        description="Patches sent to groups of hosts in waves, with a result for every host. Start one from a group's page."
        actions={
          <Link href="/groups" className={buttonClass("secondary")}>
            Groups <ArrowRight />
          </Link>
        }
      />
      <Card className="flex max-h-[calc(100vh-10.5rem)] min-h-[20rem] flex-col overflow-hidden">
        <div className="flex flex-wrap items-center gap-2 border-b border-border p-3">
          <div role="radiogroup" aria-label="Status" className="inline-flex rounded-md border border-border bg-muted/50 p-0.5">
            {STATUS_FILTERS.map((f) => (
              <button
                key={f.value}
                type="button"
                role="radio"
                aria-checked={statusKey === f.value}
                onClick={() => update({ status: f.value === "all" ? undefined : f.value })}
                className={cn(
                  "h-7 rounded px-2.5 text-xs font-medium text-muted-foreground transition-colors hover:text-foreground",
                  statusKey === f.value && "bg-card text-foreground shadow-sm shadow-black/5",
                )}
              >
                {f.label}
              </button>
            ))}
          </div>
          {patchId ? (
            <RemovableChip removeLabel="Remove patch filter" onRemove={() => update({ patchId: undefined })}>
              Patch: {scoped?.patch.title ?? patchId.slice(0, 8)}
            </RemovableChip>
          ) : null}
          {groupId ? (
            <RemovableChip removeLabel="Remove group filter" onRemove={() => update({ groupId: undefined })}>
              Group: {scoped?.group.name ?? groupId.slice(0, 8)}
            </RemovableChip>
          ) : null}
          {q.data ? <span className="ml-auto text-xs tabular text-muted-foreground">{numberFmt.format(q.data.total)} rollouts</span> : null}
        </div>
        <QueryTable
          query={q}
          errorTitle="Could not load rollouts"
          errorClassName="flex-1"
          caption="Rollouts"
          fixed
          columns={columns}
          fetching={q.isPlaceholderData}
          onRowClick={(row, e) => {
            const href = `/rollouts/${row.original.id}`;
            if (e.metaKey || e.ctrlKey) window.open(href, "_blank");
            else router.push(href);
          }}
          skeletonRows={6}
          className="min-h-0 flex-1 [&_td]:h-11"
          empty={
            filtered ? (
              <EmptyState compact icon={<SearchX />} title="No rollouts match" action={<Button onClick={() => router.replace(pathname)}>Clear filters</Button>}>
                Try another status.
              </EmptyState>
            ) : (
              <EmptyState
                icon={<Rocket />}
                title="No rollouts yet"
                action={
                  <Link href="/groups" className={buttonClass("primary")}>
                    Choose a group <ArrowRight />
                  </Link>
                }
              >
                Open a group, pick a staged patch it still misses and press Roll out. You will see every host&apos;s result here, live.
              </EmptyState>
            )
          }
        />
        {q.data && q.data.total > limit ? (
          <Pagination
            page={page}
            pageSize={limit}
            total={q.data.total}
            pageSizes={PAGE_SIZES}
            noun="rollouts"
            onPage={(p) => update({ page: p <= 1 ? undefined : String(p) })}
            onPageSize={(n) => update({ limit: n === 50 ? undefined : String(n) })}
          />
        ) : null}
      </Card>
    </>
  );
}
