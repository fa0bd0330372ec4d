"use client";
import * as React from "react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import type { SortingState } from "@tanstack/react-table";
import { ArrowRight, Boxes, Cpu, FileDiff, Pencil, Rocket, Server, Trash2 } from "lucide-react";
import type { GroupPatchStatus } from "@/lib/api/schemas";
import { plainMessage } from "../api";
import { useHosts, type HostSort } from "../hooks/use-hosts";
import { useOperator } from "../hooks/operator-context";
import { useRealtime } from "../hooks/realtime-provider";
import { PageHeader } from "../ui/page-header";
import { Breadcrumb } from "../ui/breadcrumb";
import { Card, CardHeader } from "../ui/card";
import { QueryTable } from "../ui/data-table";
import { EmptyState } from "../ui/empty-state";
import { InlineError } from "../ui/error-state";
import { Skeleton } from "../ui/skeleton";
import { Button, buttonClass } from "../ui/button";
import { Dialog, DialogContent } from "../ui/dialog";
import { Tooltip } from "../ui/tooltip";
import { Badge } from "../ui/badge";
import { cn } from "../ui/cn";
import { numberFmt } from "../ui/time";
import { hostColumns } from "../hosts/hosts-columns";
import { Pagination } from "../ui/pagination";
import { CveChips, SeverityBadge, VerdictBadge } from "../patches/patch-badges";
import { RolloutDialog } from "../rollouts/rollout-dialog";
import { RecentRollouts } from "../rollouts/recent-rollouts";
import { SelectorChips } from "./selector-chips";
import { rebootOnly } from "@/lib/analysis/live-patchable";
import { GroupFormDialog } from "./group-form-dialog";
import { useDeleteGroup, useGroup } from "../hooks/use-groups";
import { DetailLoadError } from "../detail-load-error";
import { useOnOpen } from "../hooks/use-on-open";

function AppliedBar({ p }: { p: GroupPatchStatus }) {
  const share = p.targeted > 0 ? p.applied / p.targeted : 0;
  return (
    <div className="flex min-w-0 items-center gap-2.5">
      <div className="flex h-1.5 w-32 shrink-0 overflow-hidden rounded-full bg-muted" role="img" aria-label={`${p.applied} of ${p.targeted} patched`}>
        <div className={cn("h-full rounded-full transition-[width] duration-500", share === 1 ? "bg-ok" : "bg-ok/80")} style={{ width: `${share * 100}%` }} />
      </div>
      <span className="whitespace-nowrap text-xs tabular text-muted-foreground">
        <span className="text-foreground">{numberFmt.format(p.applied)}</span>/{numberFmt.format(p.targeted)} live
        {p.missing > 0 ? <span className="ml-1.5 text-bad">{numberFmt.format(p.missing)} exposed</span> : null}
      </span>
    </div>
  );
}

function RollOutCell({ p, canRoll, onRoll }: { p: GroupPatchStatus; canRoll: boolean; onRoll: () => void }) {
  if (p.activeRolloutId) {
    return (
      <Link href={`/rollouts/${p.activeRolloutId}`} className={buttonClass("secondary", "sm", "text-warn")} data-testid="active-rollout-link">
        <span className="size-1.5 animate-pulse rounded-full bg-warn" /> Rollout in progress <ArrowRight />
      </Link>
    );
  }
  if (!canRoll) return null;
  const why =
    rebootOnly(p)
      ? "This patch changes kernel data: it needs a kernel update and a reboot, not a live patch."
      : p.missing === 0
        ? "Live on every member it targets: nothing to roll out."
        : null;
  const button = (
    <Button size="sm" variant={why ? "secondary" : "primary"} disabled={!!why} onClick={onRoll} data-testid="roll-out">
      <Rocket /> Roll out
    </Button>
  );
  return why ? (
    <Tooltip content={why} side="left">
      {/* A disabled button gets no hover: the wrapper carries the tooltip. */}
      <span tabIndex={0} className="inline-flex" data-testid="roll-out-disabled">
        {button}
      </span>
    </Tooltip>
  ) : (
    button
  );
}

function PatchesCard({ groupId, groupName, patches }: { groupId: string; groupName: string; patches: GroupPatchStatus[] }) {
  const canRoll = useOperator().can("operator");
  const [target, setTarget] = React.useState<GroupPatchStatus | null>(null);
  const [open, setOpen] = React.useState(false);
  const missing = patches.filter((p) => p.missing > 0).length;
  return (
    <Card className="overflow-hidden" data-testid="group-patches">
      <CardHeader
        icon={<FileDiff />}
        title="Patches"
        description={
          patches.length === 0
            ? "Staged patches that target a member's kernel appear here."
            : missing === 0
              ? "Every staged patch is live on every member it targets."
              : `${missing} of ${patches.length} staged ${patches.length === 1 ? "patch is" : "patches are"} not yet live on every member.`
        }
      />
      {patches.length === 0 ? (
        <EmptyState
          compact
          icon={<FileDiff />}
          title="No staged patch targets these hosts"
          action={
            <Link href="/patches" className={buttonClass("secondary")}>
              Patches <ArrowRight />
            </Link>
          }
        >
          Stage a kernel patch; once it targets a kernel release these hosts run, you can roll it out here.
        </EmptyState>
      ) : (
        <ul>
          {patches.map((p) => (
            <li key={p.patchId} className="grid grid-cols-[minmax(0,1fr)_auto] items-center gap-x-4 gap-y-1.5 border-b border-border px-4 py-3 last:border-b-0 lg:grid-cols-[minmax(0,1fr)_18rem_11rem]" data-testid="group-patch" data-patch={p.patchId}>
              <div className="min-w-0">
                <div className="flex min-w-0 items-center gap-2">
                  <SeverityBadge severity={p.severity} className="shrink-0" />
                  <Link href={`/patches/${p.patchId}`} className="truncate text-[13px] font-medium hover:underline">
                    {p.title}
                  </Link>
                </div>
                <div className="mt-1 flex flex-wrap items-center gap-2">
                  <CveChips cves={p.cves} max={3} />
                  {p.verdict !== "hot-patchable" ? <VerdictBadge verdict={p.verdict} /> : null}
                </div>
              </div>
              <div className="order-last col-span-2 lg:order-none lg:col-span-1">
                <AppliedBar p={p} />
              </div>
              <div className="flex justify-end">
                <RollOutCell
                  p={p}
                  canRoll={canRoll}
                  onRoll={() => {
                    setTarget(p);
                    setOpen(true);
                  }}
                />
              </div>
            </li>
          ))}
        </ul>
      )}
      {target ? (
        <RolloutDialog open={open} onOpenChange={setOpen} patchId={target.patchId} groupId={groupId} title={target.title} cves={target.cves} groupName={groupName} />
      ) : null}
    </Card>
  );
}

const MEMBER_PAGE = 25;

function MembersCard({ groupId, memberCount }: { groupId: string; memberCount: number }) {
  const router = useRouter();
  const { recentlyChanged } = useRealtime();
  const [page, setPage] = React.useState(1);
  const [pageSize, setPageSize] = React.useState(MEMBER_PAGE);
  const [sorting, setSorting] = React.useState<SortingState>([{ id: "hostname", desc: false }]);
  const hosts = useHosts({
    group: groupId,
    sort: (sorting[0]?.id ?? "hostname") as HostSort,
    order: sorting[0]?.desc ? "desc" : "asc",
    limit: pageSize,
    offset: (page - 1) * pageSize,
  });
  return (
    <Card className="flex flex-col overflow-hidden" data-testid="group-members">
      <CardHeader
        icon={<Server />}
        title="Members"
        description="Hosts matching the selector right now"
        actions={
          <Link href={`/hosts?group=${groupId}`} className={buttonClass("ghost", "sm")}>
            Open in Hosts <ArrowRight />
          </Link>
        }
      />
      <QueryTable
        query={hosts}
        errorTitle="Could not load members"
        errorCompact
        caption="Group members"
        columns={hostColumns}
        fetching={hosts.isPlaceholderData}
        sorting={sorting}
        onSortingChange={(u) => {
          setSorting(typeof u === "function" ? u(sorting) : u);
          setPage(1);
        }}
        onRowClick={(row) => router.push(`/hosts/${row.original.id}`)}
        rowClassName={(row) => (recentlyChanged.has(row.original.id) ? "animate-row-flash" : undefined)}
        skeletonRows={6}
        className="max-h-[36rem]"
        empty={
          <EmptyState compact icon={<Server />} title="No members">
            No active host matches this selector. Hosts join as soon as they do.
          </EmptyState>
        }
      />
      {memberCount > 0 ? (
        <Pagination
          page={page}
          pageSize={pageSize}
          total={hosts.data?.total}
          pageSizes={[25, 50, 100]}
          onPage={setPage}
          onPageSize={(n) => {
            setPageSize(n);
            setPage(1);
          }}
        />
      ) : null}
    </Card>
  );
}

function DeleteGroupDialog({ id, name, open, onOpenChange }: { id: string; name: string; open: boolean; onOpenChange: (o: boolean) => void }) {
  const del = useDeleteGroup(id);
  const router = useRouter();
  useOnOpen(open, () => del.reset());
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent
        tone="danger"
        title={`Delete ${name}?`}
        description="The group goes; its hosts and the history of rollouts to it stay. Rollouts in progress keep running on the hosts they planned."
        footer={
          <>
            <Button variant="ghost" onClick={() => onOpenChange(false)}>
              Cancel
            </Button>
            <Button
              variant="danger"
              loading={del.isPending}
              data-testid="delete-group-confirm"
              onClick={async () => {
                try {
                  await del.mutateAsync();
                  onOpenChange(false);
                  router.push("/groups");
                } catch {
                  /* shown below */
                }
              }}
            >
              Delete group
            </Button>
          </>
        }
      >
        {del.error ? <InlineError error={plainMessage(del.error)} /> : null}
      </DialogContent>
    </Dialog>
  );
}

export function GroupDetail({ id }: { id: string }) {
  const q = useGroup(id);
  const op = useOperator();
  const [edit, setEdit] = React.useState(false);
  const [del, setDel] = React.useState(false);

  if (q.isLoading) {
    return (
      <div aria-busy="true">
        <Skeleton className="mb-2 h-3 w-32" />
        <Skeleton className="mb-6 h-6 w-80" />
        <Skeleton className="mb-4 h-40" />
        <Skeleton className="h-64" />
      </div>
    );
  }
  if (q.isError || !q.data) {
    return (
      <DetailLoadError error={q.error} onRetry={() => void q.refetch()} noun="group" section="Groups" href="/groups" icon={<Boxes />}>
        It may have been deleted, or the link is incomplete.
      </DetailLoadError>
    );
  }
  const g = q.data;
  const canEdit = op.can("operator");
  return (
    <>
      <PageHeader
        breadcrumb={<Breadcrumb href="/groups" section="Groups" current={g.name} />}
        title={<span data-testid="group-title">{g.name}</span>}
        meta={
          <>
            <SelectorChips selector={g.selector} />
            {g.reloadAtBoot ? null : (
              <Tooltip content="Members' agents do not load their patches again after a reboot: a reboot takes the patches out">
                <span tabIndex={0} className="inline-flex" data-testid="group-no-reload">
                  <Badge tone="warn">no reload at boot</Badge>
                </span>
              </Tooltip>
            )}
          </>
        }
        description={
          <span className="flex flex-col gap-1">
            {g.description ? <span>{g.description}</span> : null}
            <span className="flex flex-wrap items-center gap-x-3 gap-y-1 text-xs">
              <span>
                <span className="font-medium text-foreground" data-testid="group-members-count">
                  {numberFmt.format(g.memberCount)}
                </span>{" "}
                {g.memberCount === 1 ? "member" : "members"}
              </span>
              <span className="text-ok">{numberFmt.format(g.onlineCount)} online</span>
              {g.memberCount - g.onlineCount > 0 ? <span>{numberFmt.format(g.memberCount - g.onlineCount)} offline</span> : null}
              <span>
                {g.kernelReleases.length} kernel {g.kernelReleases.length === 1 ? "release" : "releases"}
              </span>
              <span className="text-subtle-foreground">created by {g.createdBy}</span>
            </span>
          </span>
        }
        actions={
          canEdit ? (
            <>
              <Button onClick={() => setEdit(true)} data-testid="edit-group">
                <Pencil /> Edit
              </Button>
              <Button variant="ghost" className="text-bad hover:bg-bad-soft hover:text-bad" onClick={() => setDel(true)} data-testid="delete-group">
                <Trash2 /> Delete
              </Button>
            </>
          ) : null
        }
      />
      <div className="grid grid-cols-1 items-start gap-4 xl:grid-cols-3">
        <div className="flex min-w-0 flex-col gap-4 xl:col-span-2">
          <PatchesCard groupId={g.id} groupName={g.name} patches={g.patches} />
          <MembersCard groupId={g.id} memberCount={g.memberCount} />
        </div>
        <div className="flex min-w-0 flex-col gap-4">
          <Card>
            <CardHeader
              icon={<Cpu />}
              title="Kernel releases"
              description="Each needs its own build of a patch"
              actions={<Badge>{g.kernelReleases.length}</Badge>}
            />
            {g.kernelReleases.length === 0 ? (
              <p className="px-4 py-5 text-center text-xs text-muted-foreground">No members, no kernels.</p>
            ) : (
              <ul className="px-4 py-2">
                {g.kernelReleases.map((k) => (
                  <li key={k.kernelRelease}>
                    <Link href={`/hosts?group=${g.id}&kernel=${encodeURIComponent(k.kernelRelease)}`} className="group flex items-center gap-3 py-1 text-xs">
                      <span className="w-44 shrink-0 truncate font-mono group-hover:text-primary group-hover:underline">{k.kernelRelease}</span>
                      <span className="flex h-1.5 min-w-0 flex-1 overflow-hidden rounded-full bg-muted">
                        <span className="h-full rounded-full bg-[var(--chart-1)]" style={{ width: `${(k.hosts / Math.max(1, g.kernelReleases[0].hosts)) * 100}%` }} />
                      </span>
                      <span className="w-8 text-right tabular text-muted-foreground">{numberFmt.format(k.hosts)}</span>
                    </Link>
                  </li>
                ))}
              </ul>
            )}
          </Card>
          <RecentRollouts filter={{ groupId: g.id }} title="Rollouts to this group" empty="No rollout has targeted this group yet." />
        </div>
      </div>
      {canEdit ? (
        <>
          <GroupFormDialog open={edit} onOpenChange={setEdit} group={g} />
          <DeleteGroupDialog id={g.id} name={g.name} open={del} onOpenChange={setDel} />
        </>
      ) : null}
    </>
  );
}
