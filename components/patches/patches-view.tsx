"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { createColumnHelper } from "@tanstack/react-table";
import { FileDiff, Plus } from "lucide-react";
import type { PatchSummary } from "@/lib/api/schemas";
import { useOperator } from "../hooks/operator-context";
import { ListPage } from "../ui/list-page";
import { EmptyState } from "../ui/empty-state";
import { relativeTimeCell } from "../ui/relative-time";
import { Tooltip } from "../ui/tooltip";
import { buttonClass } from "../ui/button";
import { CveChips, SeverityBadge, VerdictBadge, verdictHint } from "./patch-badges";
import { Badge } from "../ui/badge";
import { usePatches } from "../hooks/use-patches";

const col = createColumnHelper<PatchSummary>();

function FunctionsCell({ fns }: { fns: string[] }) {
  if (fns.length === 0) return <span className="text-subtle-foreground">none</span>;
  const first = fns.slice(0, 2);
  return (
    <Tooltip
      content={
        fns.length > first.length ? (
          <ul className="space-y-0.5 py-0.5 font-mono text-[11px]">
            {fns.slice(0, 30).map((f) => (
              <li key={f}>{f}</li>
            ))}
            {fns.length > 30 ? <li className="text-subtle-foreground">and {fns.length - 30} more</li> : null}
          </ul>
        ) : null
      }
    >
      <span tabIndex={fns.length > first.length ? 0 : -1} className="flex min-w-0 max-w-full items-center gap-2 overflow-hidden" data-testid="patch-functions">
        <span className="w-5 shrink-0 text-right text-xs tabular text-muted-foreground">{fns.length}</span>
        <span className="truncate font-mono text-xs">{first.join(", ")}</span>
        {fns.length > first.length ? <span className="shrink-0 text-xs text-subtle-foreground">+{fns.length - first.length}</span> : null}
      </span>
    </Tooltip>
  );
}

const columns = [
  col.accessor("title", {
    header: "Patch",
    size: 0,
    cell: (c) => (
      <Link
        href={`/patches/${c.row.original.id}`}
        data-testid="patch-link"
        className="block truncate font-medium text-foreground hover:underline focus-visible:outline-offset-2"
        title={c.getValue()}
      >
        {c.getValue()}
      </Link>
    ),
  }),
  col.accessor("cves", {
    header: "CVEs",
    size: 232,
    // Two chips fit; with more, one chip and "+n" (all of them on the patch page).
    cell: (c) => <CveChips cves={c.getValue()} max={c.getValue().length > 2 ? 1 : 2} className="flex-nowrap overflow-hidden" />,
  }),
  col.accessor("severity", { header: "Severity", size: 88, cell: (c) => <SeverityBadge severity={c.getValue()} /> }),
  col.accessor("verdict", {
    header: "Verdict",
    size: 136,
    cell: (c) =>
      c.row.original.withdrawn ? (
        <Tooltip content={`Withdrawn: ${c.row.original.withdrawn.reason}`}>
          <span tabIndex={-1} className="inline-flex">
            <Badge tone="off">withdrawn</Badge>
          </span>
        </Tooltip>
      ) : (
        <Tooltip content={verdictHint[c.getValue()]}>
          <span tabIndex={-1} className="inline-flex">
            <VerdictBadge verdict={c.getValue()} />
          </span>
        </Tooltip>
      ),
  }),
  col.accessor("functions", { header: "Changed functions", size: 220, cell: (c) => <FunctionsCell fns={c.getValue()} /> }),
  col.accessor("createdBy", { header: "Staged by", size: 100, cell: (c) => <span className="truncate text-muted-foreground">{c.getValue()}</span> }),
  col.accessor("createdAt", { header: "Staged", size: 88, meta: { align: "right" }, cell: relativeTimeCell }),
];

export function PatchesView() {
  const q = usePatches();
  const router = useRouter();
  const canStage = useOperator().can("operator");
  const stageButton = canStage ? (
    <Link href="/patches/new" className={buttonClass("primary")} data-testid="stage-patch">
      <Plus /> Stage a patch
    </Link>
  ) : null;

  return (
    <ListPage
      title="Patches"
      description="Kernel patches staged for live patching. Each is analysed when staged: which functions it changes, and whether a running kernel can take it."
      create={stageButton}
      query={q}
      errorTitle="Could not load patches"
      caption="Staged patches"
      columns={columns}
      skeletonRows={5}
      onRowClick={(r) => router.push(`/patches/${r.original.id}`)}
      fetching={q.isFetching && !q.isLoading}
      className="max-h-[calc(100vh-10.5rem)]"
      empty={
        <EmptyState icon={<FileDiff />} title="No patches staged yet" action={stageButton}>
          {canStage
            ? "Stage a kernel patch (a unified diff) to see which functions it changes and whether the fleet can take it without a reboot."
            : "Operators stage kernel patches here. Once one is staged, you will see its analysis and builds."}
        </EmptyState>
      }
    />
  );
}
