"use client";
import * as React from "react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { createColumnHelper } from "@tanstack/react-table";
import { Boxes, Plus, ShieldCheck } from "lucide-react";
import type { Group, GroupPatchStatus } from "@/lib/api/schemas";
import { useOperator } from "../hooks/operator-context";
import { ListPage } from "../ui/list-page";
import { EmptyState } from "../ui/empty-state";
import { relativeTimeCell } from "../ui/relative-time";
import { Button } from "../ui/button";
import { Tooltip } from "../ui/tooltip";
import { StatusDot } from "../ui/badge";
import { numberFmt } from "../ui/time";
import { cn } from "../ui/cn";
import { SeverityBadge } from "../patches/patch-badges";
import { rebootOnly } from "@/lib/analysis/live-patchable";
import { ReleaseChips, SelectorChips } from "./selector-chips";
import { GroupFormDialog } from "./group-form-dialog";
import { useGroups } from "../hooks/use-groups";

const col = createColumnHelper<Group>();
const SEV_RANK = { critical: 0, high: 1, medium: 2, low: 3 } as const;

/** Live-patchable patches still missing somewhere in the group, worst first. */
export function missingPatches(g: Pick<Group, "patches">): GroupPatchStatus[] {
  return g.patches
    .filter((p) => p.missing > 0 && !rebootOnly(p))
    .sort((a, b) => SEV_RANK[a.severity] - SEV_RANK[b.severity] || b.missing - a.missing);
}

function MissingCell({ g }: { g: Group }) {
  const missing = missingPatches(g);
  if (g.memberCount === 0) return <span className="text-subtle-foreground">—</span>;
  if (missing.length === 0) {
    return (
      <span className="inline-flex items-center gap-1.5 text-xs text-ok">
        <ShieldCheck className="size-3.5" /> Up to date
      </span>
    );
  }
  const worst = missing[0];
  const hosts = Math.max(...missing.map((p) => p.missing));
  return (
    <Tooltip
      content={
        <ul className="space-y-1 py-0.5">
          {missing.slice(0, 8).map((p) => (
            <li key={p.patchId} className="flex items-center justify-between gap-4">
              <span className="flex min-w-0 items-center gap-1.5">
                <SeverityBadge severity={p.severity} className="h-4 px-1 text-[10px]" />
                <span className="truncate">{p.title}</span>
              </span>
              <span className="shrink-0 tabular text-subtle-foreground">
                {numberFmt.format(p.missing)}/{numberFmt.format(p.targeted)}
              </span>
            </li>
          ))}
        </ul>
      }
    >
      <span tabIndex={0} className="flex min-w-0 items-center gap-2 overflow-hidden text-xs" data-testid="group-missing">
        <SeverityBadge severity={worst.severity} />
        <span className="truncate">
          <span className="font-medium text-foreground">
            {missing.length} {missing.length === 1 ? "patch" : "patches"}
          </span>
          <span className="text-muted-foreground"> on up to {numberFmt.format(hosts)} hosts</span>
        </span>
        {missing.some((p) => p.activeRolloutId) ? <StatusDot tone="warn" pulse label="A rollout is running" /> : null}
      </span>
    </Tooltip>
  );
}

const columns = [
  col.accessor("name", {
    header: "Group",
    size: 220,
    cell: (c) => (
      <span className="flex min-w-0 flex-col">
        <Link href={`/groups/${c.row.original.id}`} className="truncate font-medium text-foreground hover:underline" data-testid="group-link">
          {c.getValue()}
        </Link>
        {c.row.original.description ? <span className="truncate text-xs text-muted-foreground">{c.row.original.description}</span> : null}
      </span>
    ),
  }),
  col.accessor("selector", { header: "Selector", size: 250, cell: (c) => <SelectorChips selector={c.getValue()} max={3} /> }),
  col.accessor("memberCount", {
    header: "Members",
    size: 96,
    meta: { align: "right" },
    cell: (c) => (
      <span className="flex flex-col items-end leading-tight tabular">
        <span className="text-[13px] font-medium text-foreground" data-testid="group-member-count">
          {numberFmt.format(c.getValue())}
        </span>
        <span className={cn("text-[11px]", c.row.original.onlineCount < c.getValue() ? "text-muted-foreground" : "text-ok")}>
          {c.row.original.onlineCount < c.getValue() ? `${numberFmt.format(c.getValue() - c.row.original.onlineCount)} offline` : c.getValue() > 0 ? "all online" : ""}
        </span>
      </span>
    ),
  }),
  col.accessor("kernelReleases", { header: "Kernel releases", size: 0, cell: (c) => <ReleaseChips releases={c.getValue()} max={1} /> }),
  col.display({ id: "missing", header: "Patches missing", size: 260, cell: (c) => <MissingCell g={c.row.original} /> }),
  col.accessor("createdAt", { header: "Created", size: 96, meta: { align: "right" }, cell: relativeTimeCell }),
];

export function GroupsView() {
  const q = useGroups();
  const router = useRouter();
  const canEdit = useOperator().can("operator");
  const [open, setOpen] = React.useState(false);
  const newButton = canEdit ? (
    <Button variant="primary" onClick={() => setOpen(true)} data-testid="new-group">
      <Plus /> New group
    </Button>
  ) : null;
  return (
    <>
      <ListPage
        title="Groups"
        description="Named selectors over hosts, evaluated live. Roll a patch out to a group in waves, and see what each group still misses."
        create={newButton}
        query={q}
        errorTitle="Could not load groups"
        caption="Groups"
        columns={columns}
        skeletonRows={5}
        onRowClick={(r, e) => {
          const href = `/groups/${r.original.id}`;
          if (e.metaKey || e.ctrlKey) window.open(href, "_blank");
          else router.push(href);
        }}
        className="max-h-[calc(100vh-10.5rem)] [&_td]:h-11"
        empty={
          <EmptyState icon={<Boxes />} title="No groups yet" action={newButton}>
            {canEdit
              ? "Group hosts by label (env=prod, role=web), kernel release or distribution, then roll patches out to a group in waves."
              : "Operators define groups of hosts here; rollouts target a group."}
          </EmptyState>
        }
      />
      <GroupFormDialog open={open} onOpenChange={setOpen} />
    </>
  );
}
