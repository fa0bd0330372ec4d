"use client";
import * as React from "react";
import Link from "next/link";
import { AlertTriangle, CheckCircle2, Clock, Hourglass, Info, OctagonX, PauseCircle, Rocket, Settings2, Undo2 } from "lucide-react";
import type { RolloutDetail as RolloutDetailT, RolloutHostState } from "@/lib/api/schemas";
import { useOperator } from "../hooks/operator-context";
import { PageHeader } from "../ui/page-header";
import { Breadcrumb } from "../ui/breadcrumb";
import { Card, CardHeader } from "../ui/card";
import { DetailPageSkeleton } from "../ui/skeleton";
import { RelativeTime, useNow } from "../ui/relative-time";
import { cn } from "../ui/cn";
import { formatDuration, formatExact, numberFmt } from "../ui/time";
import { CveChips } from "../patches/patch-badges";
import { ActionButton, RolloutActions } from "./rollout-actions";
import { FAILED_HOST_STATES, FINAL_HOST_STATES, HOST_STATE_READ_ORDER, IN_FLIGHT_HOST_STATES } from "@/lib/rollouts/states";
import { HOST_STATE_META, RollbackBadge, RolloutStatusBadge, StateBar, sumCounts } from "./rollout-state";
import { RolloutHostsCard } from "./rollout-hosts";
import { strategyWords } from "./strategy";
import { isActive, useRollout, type RolloutAction } from "../hooks/use-rollouts";
import { DetailLoadError } from "../detail-load-error";

function RolloutRef({ id, prefix }: { id: string; prefix: string }) {
  const q = useRollout(id);
  return (
    <Link href={`/rollouts/${id}`} className="inline-flex items-center gap-1 text-primary hover:underline" data-testid="rollout-relation">
      <Undo2 className="size-3.5" />
      {prefix} {q.data ? `rollout ${q.data.number}` : "rollout …"}
      {q.data ? <span className="text-muted-foreground">({q.data.status})</span> : null}
    </Link>
  );
}

/** Why a rollout is not simply running: paused (and why), aborting, or how it ended. */
function Banner({ r, onAction }: { r: RolloutDetailT; onAction: (a: RolloutAction) => void }) {
  const can = useOperator().can("operator");
  const failed = sumCounts(r.counts, FAILED_HOST_STATES);
  let tone: "warn" | "bad" | "ok" | "off";
  let icon: React.ReactNode;
  let title: string;
  let text: React.ReactNode = r.pauseReason;
  let action: RolloutAction | null = null;
  if (r.status === "paused") {
    tone = r.pauseKind === "failures" ? "bad" : "warn";
    icon = r.pauseKind === "failures" ? <OctagonX /> : <PauseCircle />;
    title = r.pauseKind === "approval" ? "Waiting for approval" : r.pauseKind === "failures" ? "Paused: failure budget exceeded" : "Paused by an operator";
    text =
      r.pauseReason ??
      (r.pauseKind === "approval" ? "The canary finished. Approve to start the remaining waves." : r.pauseKind === "failures" ? `${r.failures} failures, budget ${r.failureBudget}.` : null);
    action = r.pauseKind === "approval" ? "approve" : "resume";
  } else if (r.status === "aborting") {
    tone = "warn";
    icon = <Hourglass />;
    title = "Aborting";
    text = `No new hosts are dispatched; waiting for the ${sumCounts(r.counts, IN_FLIGHT_HOST_STATES)} in flight to finish.`;
  } else if (r.status === "aborted") {
    tone = "off";
    icon = <OctagonX />;
    title = "Aborted";
    text = r.pauseReason ?? "Stopped before every host was done; the rest were skipped.";
  } else if (r.status === "completed" && failed > 0) {
    tone = "bad";
    icon = <AlertTriangle />;
    title = `Completed with ${failed} ${failed === 1 ? "failure" : "failures"}`;
    text = "Open a failed host for its log and error.";
  } else if (r.status === "completed") {
    tone = "ok";
    icon = <CheckCircle2 />;
    title = r.kind === "rollback" ? "Rolled back" : "Completed";
    text = r.kind === "rollback" ? "The patch was taken back off every host this rollback covered." : `The patch is live on ${numberFmt.format(r.counts.succeeded ?? 0)} hosts.`;
  } else {
    return null;
  }
  const cls = {
    warn: "border-warn/30 bg-warn-soft text-warn",
    bad: "border-bad/25 bg-bad-soft text-bad",
    ok: "border-ok/25 bg-ok-soft text-ok",
    off: "border-border bg-muted text-muted-foreground",
  }[tone];
  return (
    <div role="status" className={cn("mb-4 flex items-center gap-3 rounded-lg border px-4 py-3", cls)} data-testid="rollout-banner" data-kind={r.pauseKind ?? r.status}>
      <span className="shrink-0 [&_svg]:size-5">{icon}</span>
      <div className="min-w-0 flex-1">
        <p className="text-[13px] font-semibold">{title}</p>
        {text ? <p className="text-[13px] text-foreground/80" data-testid="pause-reason">{text}</p> : null}
      </div>
      {action && can ? <ActionButton action={action} primary onClick={() => onAction(action!)} /> : null}
    </div>
  );
}

function CountChips({ r, selected, onToggle }: { r: RolloutDetailT; selected: RolloutHostState[]; onToggle: (s: RolloutHostState) => void }) {
  const states = HOST_STATE_READ_ORDER.filter((s) => (r.counts[s] ?? 0) > 0);
  return (
    <div className="flex flex-wrap gap-1.5" data-testid="state-chips" role="group" aria-label="Filter hosts by state">
      {states.map((s) => {
        const on = selected.includes(s);
        const m = HOST_STATE_META[s];
        return (
          <button
            key={s}
            type="button"
            aria-pressed={on}
            onClick={() => onToggle(s)}
            title={`${m.hint}. Click to ${on ? "stop filtering" : "show only these hosts"}.`}
            data-state={s}
            className={cn(
              "inline-flex h-7 items-center gap-2 rounded-md border px-2.5 text-xs transition-colors",
              on ? "border-primary/40 bg-accent text-accent-foreground shadow-[inset_0_0_0_1px] shadow-primary/20" : "border-border bg-card hover:border-border-strong hover:bg-muted/60",
            )}
          >
            <span className={cn("size-2 rounded-sm", m.bar)} />
            <span className="text-muted-foreground">{m.label}</span>
            <span className="font-medium tabular text-foreground" data-testid={`count-${s}`}>
              {numberFmt.format(r.counts[s]!)}
            </span>
          </button>
        );
      })}
    </div>
  );
}

function ProgressCard({
  r,
  selected,
  onToggle,
  wave,
  onWave,
}: {
  r: RolloutDetailT;
  selected: RolloutHostState[];
  onToggle: (s: RolloutHostState) => void;
  wave: number | undefined;
  onWave: (w: number | undefined) => void;
}) {
  const done = sumCounts(r.counts, FINAL_HOST_STATES);
  const pct = r.hostCount > 0 ? Math.floor((done / r.hostCount) * 100) : 100;
  const waves = r.waves.filter((w) => w.hosts > 0);
  const now = useNow();
  const nextIn = r.nextWaveAt ? Math.max(0, (new Date(r.nextWaveAt).getTime() - Math.max(now, Date.now())) / 1000) : null;
  return (
    <Card data-testid="rollout-progress-card">
      <CardHeader
        icon={<Rocket />}
        title="Progress"
        description={
          <>
            {numberFmt.format(done)} of {numberFmt.format(r.hostCount)} hosts done
            {r.status === "running" ? ` · ${r.currentWave === 0 ? "canary" : `wave ${r.currentWave} of ${waves.filter((w) => w.index > 0).length}`}` : ""}
            {nextIn !== null && r.status === "running" ? ` · next wave in ${formatDuration(nextIn)}` : ""}
          </>
        }
        actions={<span className="text-lg font-semibold tabular">{pct}%</span>}
      />
      <div className="flex flex-col gap-4 p-4">
        <StateBar counts={r.counts} total={r.hostCount} height="h-2.5" testId="rollout-bar" />
        <CountChips r={r} selected={selected} onToggle={onToggle} />
        {waves.length > 0 ? (
          <div className="flex flex-col gap-1" data-testid="wave-bars">
            <div className="mb-0.5 flex items-center justify-between text-[11px] font-medium uppercase tracking-wide text-subtle-foreground">
              <span>Waves</span>
              {wave !== undefined ? (
                <button type="button" className="normal-case tracking-normal text-primary hover:underline" onClick={() => onWave(undefined)}>
                  Show every wave
                </button>
              ) : null}
            </div>
            {waves.map((w) => {
              const wDone = sumCounts(w.counts, FINAL_HOST_STATES);
              const current = isActive(r.status) && w.index === r.currentWave && wDone < w.hosts;
              const on = wave === w.index;
              return (
                <button
                  key={w.index}
                  type="button"
                  onClick={() => onWave(on ? undefined : w.index)}
                  aria-pressed={on}
                  data-testid="wave-bar"
                  data-wave={w.index}
                  data-current={current || undefined}
                  className={cn("grid grid-cols-[6.5rem_minmax(0,1fr)_5.5rem] items-center gap-3 rounded-md px-2 py-1 text-left text-xs hover:bg-muted/60", on && "bg-accent")}
                >
                  <span className="flex items-center gap-1.5">
                    {current ? <span className="size-1.5 animate-pulse rounded-full bg-warn" aria-label="dispatching" /> : <span className="size-1.5" />}
                    <span className={cn(current ? "font-medium text-foreground" : "text-muted-foreground")}>{w.index === 0 ? "Canary" : `Wave ${w.index}`}</span>
                  </span>
                  <StateBar counts={w.counts} total={w.hosts} height="h-2" />
                  <span className="text-right tabular text-muted-foreground">
                    <span className="text-foreground">{numberFmt.format(wDone)}</span>/{numberFmt.format(w.hosts)}
                  </span>
                </button>
              );
            })}
          </div>
        ) : null}
      </div>
    </Card>
  );
}

function DetailRow({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="grid min-h-8 grid-cols-[7.5rem_1fr] items-center gap-3 border-b border-border px-4 py-1.5 last:border-b-0">
      <dt className="text-xs text-muted-foreground">{label}</dt>
      <dd className="min-w-0 text-[13px]">{children}</dd>
    </div>
  );
}

const spec = (v: number | string) => (typeof v === "number" ? numberFmt.format(v) : v);

function DetailsCard({ r }: { r: RolloutDetailT }) {
  const s = r.strategy;
  const took = r.finishedAt ? formatDuration((new Date(r.finishedAt).getTime() - new Date(r.createdAt).getTime()) / 1000) : null;
  return (
    <Card data-testid="rollout-strategy">
      <CardHeader icon={<Settings2 />} title="Strategy" description={strategyWords(s).slice(0, 2).join(", ")} />
      <dl>
        <DetailRow label="Canary">
          <span className="tabular">{numberFmt.format(s.canary)}</span>
          {s.pauseAfterCanary ? <span className="text-muted-foreground"> · then wait for approval</span> : null}
        </DetailRow>
        <DetailRow label="Wave size">
          <span className="font-mono text-xs">{spec(s.waves)}</span> <span className="text-muted-foreground">· {r.waveCount > 0 ? r.waveCount - 1 : 0} waves</span>
        </DetailRow>
        <DetailRow label="Max in flight">
          <span className="tabular">{numberFmt.format(s.maxInFlight)}</span>
        </DetailRow>
        <DetailRow label="Failure budget">
          <span className={cn("tabular", r.failures > r.failureBudget && "text-bad")} data-testid="failure-budget">
            {numberFmt.format(r.failures)} of {numberFmt.format(r.failureBudget)} used
          </span>
          <span className="text-muted-foreground"> · {spec(s.failureBudget)}</span>
        </DetailRow>
        <DetailRow label="Between waves">{s.waitBetweenWavesSec > 0 ? formatDuration(s.waitBetweenWavesSec) : <span className="text-muted-foreground">no wait</span>}</DetailRow>
        <DetailRow label="Host timeout">{formatDuration(s.hostTimeoutSec)}</DetailRow>
        <DetailRow label="Started">
          <span title={formatExact(new Date(r.createdAt))}>
            <RelativeTime date={r.createdAt} /> <span className="text-muted-foreground">by {r.createdBy}</span>
          </span>
        </DetailRow>
        <DetailRow label="Finished">
          {r.finishedAt ? (
            <span>
              <RelativeTime date={r.finishedAt} /> <span className="text-muted-foreground">· took {took}</span>
            </span>
          ) : (
            <span className="inline-flex items-center gap-1.5 text-muted-foreground">
              <Clock className="size-3.5" /> in progress
            </span>
          )}
        </DetailRow>
        <DetailRow label="Module">
          <span className="font-mono text-xs">{r.patch.moduleName}</span>
        </DetailRow>
      </dl>
    </Card>
  );
}

export function RolloutDetail({ id }: { id: string }) {
  const q = useRollout(id);
  const [states, setStates] = React.useState<RolloutHostState[]>([]);
  const [wave, setWave] = React.useState<number | undefined>(undefined);
  const [pending, setPending] = React.useState<RolloutAction | null>(null);

  if (q.isLoading) {
    return (
      <DetailPageSkeleton titleClassName="w-[28rem]" gridClassName="xl:grid-cols-3" mainClassName="xl:col-span-2" />
    );
  }
  if (q.isError || !q.data) {
    return (
      <DetailLoadError error={q.error} onRetry={() => void q.refetch()} noun="rollout" section="Rollouts" href="/rollouts" icon={<Rocket />}>
        The link may be incomplete.
      </DetailLoadError>
    );
  }
  const r = q.data;
  const toggle = (s: RolloutHostState) => setStates((cur) => (cur.includes(s) ? cur.filter((x) => x !== s) : [...cur, s]));
  return (
    <>
      <PageHeader
        breadcrumb={<Breadcrumb href="/rollouts" section="Rollouts" current={`#${r.number}`} />}
        title={
          <span data-testid="rollout-title">
            Rollout {r.number} <span className="font-normal text-subtle-foreground">·</span> {r.patch.title}{" "}
            <span className="font-normal text-subtle-foreground">→</span>{" "}
            {r.group.id ? (
              <Link href={`/groups/${r.group.id}`} className="hover:underline">
                {r.group.name}
              </Link>
            ) : (
              r.group.name
            )}
          </span>
        }
        meta={
          <>
            <RolloutStatusBadge rollout={r} />
            {r.kind === "rollback" ? <RollbackBadge /> : null}
          </>
        }
        description={
          <span className="flex flex-wrap items-center gap-x-3 gap-y-1">
            <CveChips cves={r.patch.cves} max={4} />
            <Link href={`/patches/${r.patch.id}`} className="text-xs hover:text-foreground hover:underline">
              Patch details
            </Link>
            {r.rollbackOfId ? <RolloutRef id={r.rollbackOfId} prefix="Rollback of" /> : null}
            {r.rollbackId ? <RolloutRef id={r.rollbackId} prefix="Rolled back by" /> : null}
          </span>
        }
        actions={<RolloutActions r={r} pending={pending} setPending={setPending} />}
      />
      <Banner r={r} onAction={setPending} />
      {r.hostCount === 0 ? (
        <p className="mb-4 flex items-center gap-2 text-[13px] text-muted-foreground">
          <Info className="size-4" /> This rollout had no hosts.
        </p>
      ) : null}
      <div className="grid grid-cols-1 items-start gap-4 xl:grid-cols-3">
        <div className="min-w-0 xl:col-span-2">
          <ProgressCard r={r} selected={states} onToggle={toggle} wave={wave} onWave={setWave} />
        </div>
        <DetailsCard r={r} />
      </div>
      <RolloutHostsCard r={r} states={states} setStates={setStates} wave={wave} setWave={setWave} />
    </>
  );
}
