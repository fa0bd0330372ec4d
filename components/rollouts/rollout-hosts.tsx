"use client";
import * as React from "react";
import Link from "next/link";
import { createColumnHelper } from "@tanstack/react-table";
import { ScrollText, Search, SearchX, Server } from "lucide-react";
import type { RolloutDetail, RolloutHost, RolloutHostState } from "@/lib/api/schemas";
import { plainMessage } from "../api";
import { useDebouncedText } from "../hooks/use-debounced-text";
import { Card, CardHeader } from "../ui/card";
import { QueryTable } from "../ui/data-table";
import { EmptyState } from "../ui/empty-state";
import { IconInput } from "../ui/input";
import { Button, Spinner } from "../ui/button";
import { FollowingLog, LogDialog } from "../ui/log-view";
import { Badge } from "../ui/badge";
import { RelativeTime } from "../ui/relative-time";
import { cn } from "../ui/cn";
import { RemovableChip } from "../ui/chip";
import { formatDuration, formatExact } from "../ui/time";
import { Pagination } from "../ui/pagination";
import { FAILED_HOST_STATES, HOST, IN_FLIGHT_HOST_STATES, isIn, WAITING_HOST_STATES } from "@/lib/rollouts/states";
import { HOST_STATE_META, RolloutHostStateBadge } from "./rollout-state";
import { isActive, useRolloutHost, useRolloutHosts } from "../hooks/use-rollouts";

/** A clock that ticks every second while `on`: live durations for hosts in flight. */
function useTick(on: boolean): number {
  const [now, setNow] = React.useState(() => Date.now());
  React.useEffect(() => {
    if (!on) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [on]);
  return now;
}

const NowContext = React.createContext(0);

function Duration({ h }: { h: RolloutHost }) {
  const now = React.useContext(NowContext);
  if (!h.startedAt) return <span className="text-subtle-foreground">—</span>;
  const end = h.finishedAt ? new Date(h.finishedAt).getTime() : Math.max(now, Date.now());
  const sec = (end - new Date(h.startedAt).getTime()) / 1000;
  const live = !h.finishedAt && isIn(IN_FLIGHT_HOST_STATES, h.state);
  return (
    <span className={cn("font-mono text-xs tabular", live ? "text-warn" : "text-muted-foreground")} title={h.finishedAt ? `Finished ${formatExact(new Date(h.finishedAt))}` : "Still running"}>
      {sec < 10 ? `${sec.toFixed(1)}s` : formatDuration(sec)}
    </span>
  );
}

const col = createColumnHelper<RolloutHost>();

function columns(onOpen: (h: RolloutHost) => void) {
  return [
    col.accessor("hostname", {
      header: "Host",
      size: 220,
      cell: (c) => (
        <Link href={`/hosts/${c.row.original.hostId}`} className="block truncate font-medium text-foreground hover:text-primary hover:underline" data-testid="rollout-host-link">
          {c.getValue()}
        </Link>
      ),
    }),
    col.accessor("kernelRelease", { header: "Kernel release", size: 230, cell: (c) => <span className="block truncate font-mono text-xs">{c.getValue()}</span> }),
    col.accessor("wave", {
      header: "Wave",
      size: 76,
      cell: (c) => (c.getValue() === null ? <span className="text-subtle-foreground">—</span> : c.getValue() === 0 ? <Badge tone="warn">canary</Badge> : <span className="tabular text-muted-foreground">{c.getValue()}</span>),
    }),
    col.accessor("state", { header: "State", size: 150, cell: (c) => <RolloutHostStateBadge state={c.getValue()} /> }),
    col.display({ id: "duration", header: "Duration", size: 90, meta: { align: "right" }, cell: (c) => <Duration h={c.row.original} /> }),
    col.accessor("error", {
      header: "Error / reason",
      size: 0,
      cell: (c) =>
        c.getValue() ? (
          <span
            className={cn("block truncate text-xs", c.row.original.state === HOST.skipped ? "text-muted-foreground" : "text-bad")}
            title={c.getValue() ?? undefined}
            data-testid="rollout-host-error"
          >
            {c.getValue()}
          </span>
        ) : (
          <span className="text-subtle-foreground">—</span>
        ),
    }),
    col.display({
      id: "log",
      header: () => <span className="sr-only">Log</span>,
      size: 80,
      meta: { align: "right" },
      cell: (c) => (
        <Button size="sm" variant="ghost" onClick={() => onOpen(c.row.original)} data-testid="open-host-log" aria-label={`Log of ${c.row.original.hostname}`}>
          <ScrollText /> Log
        </Button>
      ),
    }),
  ];
}

function HostLogDialog({ r, host, onClose }: { r: RolloutDetail; host: RolloutHost | null; onClose: () => void }) {
  const q = useRolloutHost(r.id, host?.hostId ?? null, isActive(r.status));
  const d = q.data;
  const state = d?.state ?? host?.state;
  const times: [string, string | null | undefined][] = [
    ["Dispatched", d?.dispatchedAt],
    ["Started", d?.startedAt],
    ["Finished", d?.finishedAt],
    ["Deadline", d && !d.finishedAt ? d.deadlineAt : null],
  ];
  return (
    <LogDialog
      item={host}
      onClose={onClose}
      className="top-[6vh]"
      title={(h) => (
        <>
          <Server className="size-4 text-muted-foreground" />
          <Link href={`/hosts/${h.hostId}`} className="hover:underline">
            {h.hostname}
          </Link>
          <span className="font-mono text-xs font-normal text-muted-foreground">{h.kernelRelease}</span>
        </>
      )}
      description={(h) => `Rollout ${r.number} · ${h.wave === null ? "not in a wave" : h.wave === 0 ? "canary" : `wave ${h.wave}`}`}
    >
      {(h) => (
        <div className="flex flex-col gap-3" data-testid="host-log-dialog" data-state={state}>
          <div className="flex flex-wrap items-center gap-x-4 gap-y-1.5 text-xs text-muted-foreground">
            {state ? <RolloutHostStateBadge state={state} /> : null}
            {times
              .filter(([, t]) => t)
              .map(([label, t]) => (
                <span key={label} title={formatExact(new Date(t!))}>
                  {label} <RelativeTime date={t} className="text-foreground" />
                </span>
              ))}
            {q.isFetching ? <Spinner className="size-3" /> : null}
          </div>
          {d?.error ? (
            <p
              className={cn(
                "rounded-md border px-3 py-2 text-[13px] break-words",
                d.state === HOST.skipped ? "border-border bg-muted/60 text-muted-foreground" : "border-bad/25 bg-bad-soft text-bad",
              )}
              data-testid="host-error"
            >
              {d.error}
            </p>
          ) : null}
          {d?.blockingTasks && d.blockingTasks.length > 0 ? (
            <div className="rounded-md border border-warn/25 bg-warn-soft px-3 py-2 text-xs">
              <p className="mb-1.5 font-medium text-warn">Tasks that blocked the livepatch transition</p>
              <ul className="flex flex-wrap gap-1.5" data-testid="blocking-tasks">
                {d.blockingTasks.map((t) => (
                  <li key={t.pid}>
                    <Badge mono className="bg-card">
                      {t.comm} <span className="text-subtle-foreground">pid {t.pid}</span>
                    </Badge>
                  </li>
                ))}
              </ul>
            </div>
          ) : null}
          <FollowingLog
            testId="host-log"
            followKey={h.hostId}
            className="h-[46vh]"
            loadError={q.isError ? plainMessage(q.error) : undefined}
            text={
              d === undefined
                ? "Loading…"
                : d.log ||
                  (isIn(WAITING_HOST_STATES, d.state)
                    ? "Not dispatched yet: the agent's log appears here once it starts."
                    : d.state === HOST.skipped
                      ? "Skipped before anything was sent to the host."
                      : "(the agent sent no log lines)")
            }
          />
        </div>
      )}
    </LogDialog>
  );
}

const PAGE_SIZES = [50, 100, 200];

/** The rollout's hosts, served a page at a time (problems first), filtered by state, wave and name. */
export function RolloutHostsCard({
  r,
  states,
  setStates,
  wave,
  setWave,
}: {
  r: RolloutDetail;
  states: RolloutHostState[];
  setStates: (s: RolloutHostState[]) => void;
  wave: number | undefined;
  setWave: (w: number | undefined) => void;
}) {
  const [q, setQ] = React.useState("");
  const [page, setPage] = React.useState(1);
  const [limit, setLimit] = React.useState(50);
  const [open, setOpen] = React.useState<RolloutHost | null>(null);
  const onSearch = React.useCallback((v: string) => setQ(v), []);
  const search = useDebouncedText(q, onSearch, 250);
  const key = `${states.join(",")}|${wave}|${q}`;
  React.useEffect(() => setPage(1), [key]);
  const active = isActive(r.status);
  const hosts = useRolloutHosts(r.id, { state: states.length ? states : undefined, q: q || undefined, wave, offset: (page - 1) * limit, limit }, active);
  const inFlight = (hosts.data?.items ?? []).some((h) => !h.finishedAt && isIn(IN_FLIGHT_HOST_STATES, h.state));
  const now = useTick(inFlight);
  const cols = React.useMemo(() => columns(setOpen), []);
  const filtered = states.length > 0 || wave !== undefined || q !== "";

  return (
    <Card className="mt-4 flex flex-col overflow-hidden" data-testid="rollout-hosts">
      <CardHeader
        icon={<Server />}
        title="Hosts"
        description="Problems first. Open a host for its job log."
        actions={
          <IconInput
            icon={Search}
            type="search"
            aria-label="Filter hosts of this rollout"
            placeholder="Hostname…"
            value={search.text}
            onChange={(e) => search.setText(e.target.value)}
            onKeyDown={(e) => e.key === "Enter" && search.commit()}
            className="w-60"
            inputClassName="h-7 text-xs"
            data-testid="rollout-hosts-search"
          />
        }
      />
      {filtered ? (
        <div className="flex flex-wrap items-center gap-1.5 border-b border-border px-4 py-2 text-xs" data-testid="host-filters">
          <span className="text-muted-foreground">Showing</span>
          {states.map((s) => (
            <RemovableChip key={s} removeLabel={`Remove filter ${s}`} onRemove={() => setStates(states.filter((x) => x !== s))}>
              <span className={cn("size-2 rounded-sm", HOST_STATE_META[s].bar)} />
              {HOST_STATE_META[s].label}
            </RemovableChip>
          ))}
          {wave !== undefined ? (
            <RemovableChip removeLabel="Remove wave filter" onRemove={() => setWave(undefined)}>
              {wave === 0 ? "canary" : `wave ${wave}`}
            </RemovableChip>
          ) : null}
          {q ? (
            <RemovableChip removeLabel="Clear search" onRemove={() => setQ("")}>
              “{q}”
            </RemovableChip>
          ) : null}
          <button
            type="button"
            className="ml-1 text-primary hover:underline"
            onClick={() => {
              setStates([]);
              setWave(undefined);
              setQ("");
            }}
          >
            Clear
          </button>
        </div>
      ) : null}
      <NowContext.Provider value={now}>
        <QueryTable
          query={hosts}
          errorTitle="Could not load the hosts"
          errorCompact
          caption="Hosts of this rollout"
          fixed
          columns={cols}
          fetching={hosts.isPlaceholderData}
          getRowId={(h) => h.hostId}
          onRowClick={(row) => setOpen(row.original)}
          rowClassName={(row) => (isIn(FAILED_HOST_STATES, row.original.state) ? "bg-bad-soft/40" : undefined)}
          skeletonRows={8}
          className="max-h-[40rem]"
          empty={
            filtered ? (
              <EmptyState compact icon={<SearchX />} title="No hosts match">
                No host of this rollout is in that state{q ? " with that name" : ""}.
              </EmptyState>
            ) : (
              <EmptyState compact icon={<Server />} title="No hosts" />
            )
          }
        />
      </NowContext.Provider>
      <Pagination
        page={page}
        pageSize={limit}
        total={hosts.data?.total}
        pageSizes={PAGE_SIZES}
        onPage={setPage}
        onPageSize={(n) => {
          setLimit(n);
          setPage(1);
        }}
      />
      <HostLogDialog r={r} host={open} onClose={() => setOpen(null)} />
    </Card>
  );
}
