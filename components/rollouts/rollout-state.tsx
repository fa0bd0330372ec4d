import { Undo2 } from "lucide-react";
import type { RolloutStatus, RolloutSummary } from "@/lib/api/schemas";
import { FAILED_HOST_STATES, FINAL_HOST_STATES, HOST, HOST_STATE_BAR_ORDER, HOST_STATE_READ_ORDER, IN_FLIGHT_HOST_STATES, isIn, type RolloutHostState } from "@/lib/rollouts/states";
import { Badge, StatusBadge, type Tone } from "../ui/badge";
import { Spinner } from "../ui/button";
import { Tooltip } from "../ui/tooltip";
import { cn } from "../ui/cn";
import { numberFmt } from "../ui/time";

type Counts = Partial<Record<RolloutHostState, number>>;

interface StateMeta {
  label: string;
  tone: Tone;
  /** Bar segment colour. */
  bar: string;
  hint: string;
  /** Extra classes on the badge (for the two states outside the five tones). */
  badgeClass?: string;
}

// Theme tokens in app/globals.css, light and dark, like the five tones.
const ORANGE_BADGE = "bg-orange-soft text-orange border-orange/30";
const VIOLET_BADGE = "bg-violet-soft text-violet border-violet/30";

const META: Record<RolloutHostState, Omit<StateMeta, "label">> = {
  pending: { tone: "neutral", bar: "bg-border-strong", hint: "Waiting for its wave" },
  waiting_for_build: { tone: "warn", bar: "bg-warn/45", hint: "Its kernel release's build is queued or building" },
  dispatched: { tone: "warn", bar: "bg-warn", hint: "Job sent to the agent" },
  downloading: { tone: "warn", bar: "bg-warn", hint: "The agent is fetching and verifying the artifact" },
  applying: { tone: "warn", bar: "bg-warn", hint: "Loading the livepatch module" },
  verifying: { tone: "warn", bar: "bg-warn", hint: "Waiting for the livepatch transition to finish" },
  succeeded: { tone: "ok", bar: "bg-ok", hint: "The patch is live on this host" },
  failed: { tone: "bad", bar: "bg-bad", hint: "The agent reported an error (see its log)" },
  unreachable: { tone: "bad", bar: "bg-orange", hint: "Offline past its deadline", badgeClass: ORANGE_BADGE },
  skipped: { tone: "off", bar: "bg-off/45", hint: "Not patched, for the reason given" },
  reverted: { tone: "neutral", bar: "bg-violet", hint: "The patch was taken back off this host", badgeClass: VIOLET_BADGE },
};

/** Each state's look; its label is its name, spelled for reading (`waiting for build`). */
export const HOST_STATE_META = Object.fromEntries(
  Object.entries(META).map(([state, m]) => [state, { ...m, label: state.replaceAll("_", " ") }]),
) as Record<RolloutHostState, StateMeta>;

export function RolloutHostStateBadge({ state, className }: { state: RolloutHostState; className?: string }) {
  const m = HOST_STATE_META[state];
  return (
    <span className="inline-flex items-center gap-1.5" data-testid="host-state" data-state={state}>
      <StatusBadge tone={m.tone} pulse={isIn(IN_FLIGHT_HOST_STATES, state)} className={cn(m.badgeClass, className)}>
        {m.label}
      </StatusBadge>
    </span>
  );
}

export function rolloutStatusTone(r: Pick<RolloutSummary, "status" | "pauseKind">): Tone {
  switch (r.status) {
    case "running":
    case "aborting":
      return "warn";
    case "paused":
      return r.pauseKind === "failures" ? "bad" : "warn";
    case "completed":
      return "ok";
    case "aborted":
      return "off";
  }
}

const STATUS_LABEL: Record<RolloutStatus, string> = {
  running: "running",
  paused: "paused",
  aborting: "aborting",
  aborted: "aborted",
  completed: "completed",
};

export function RolloutStatusBadge({ rollout, className }: { rollout: Pick<RolloutSummary, "status" | "pauseKind">; className?: string }) {
  const tone = rolloutStatusTone(rollout);
  const label =
    rollout.status === "paused" && rollout.pauseKind === "approval"
      ? "awaiting approval"
      : rollout.status === "paused" && rollout.pauseKind === "failures"
        ? "paused: failures"
        : STATUS_LABEL[rollout.status];
  return (
    <span className="inline-flex items-center gap-1.5" data-testid="rollout-status" data-status={rollout.status}>
      <StatusBadge tone={tone} pulse={rollout.status === "running"} className={className}>
        {label}
      </StatusBadge>
      {rollout.status === "aborting" ? <Spinner className="size-3 text-warn" /> : null}
    </span>
  );
}

export function RollbackBadge() {
  return (
    <Badge className={cn("shrink-0 gap-1 overflow-visible", VIOLET_BADGE)}>
      <Undo2 className="size-3" /> rollback
    </Badge>
  );
}

export function sumCounts(counts: Counts, states: readonly RolloutHostState[]): number {
  return states.reduce((n, s) => n + (counts[s] ?? 0), 0);
}

/** A stacked bar of host states. The track (pending) is the muted background. */
export function StateBar({
  counts,
  total,
  className,
  height = "h-1.5",
  testId,
}: {
  counts: Counts;
  total: number;
  className?: string;
  height?: string;
  testId?: string;
}) {
  const segs = HOST_STATE_BAR_ORDER.filter((s) => s !== HOST.pending && (counts[s] ?? 0) > 0);
  const label = HOST_STATE_READ_ORDER.filter((s) => counts[s])
    .map((s) => `${numberFmt.format(counts[s]!)} ${HOST_STATE_META[s].label}`)
    .join(", ");
  return (
    <div
      role="img"
      aria-label={label || "no hosts"}
      title={label || undefined}
      data-testid={testId}
      className={cn("flex w-full overflow-hidden rounded-full bg-muted", height, className)}
    >
      {total > 0
        ? segs.map((s) => (
            <div
              key={s}
              className={cn("h-full transition-[width] duration-500 ease-out", HOST_STATE_META[s].bar, isIn(IN_FLIGHT_HOST_STATES, s) && "animate-pulse")}
              style={{ width: `${((counts[s] ?? 0) / total) * 100}%` }}
            />
          ))
        : null}
    </div>
  );
}

/** "412 / 500" done, with a short bar: the list's progress cell. */
export function RolloutProgress({ r, className }: { r: Pick<RolloutSummary, "counts" | "hostCount" | "failures" | "kind">; className?: string }) {
  const done = sumCounts(r.counts, FINAL_HOST_STATES);
  const bad = sumCounts(r.counts, FAILED_HOST_STATES);
  const inFlight = sumCounts(r.counts, IN_FLIGHT_HOST_STATES);
  return (
    <Tooltip
      content={
        <span className="flex flex-col gap-0.5 py-0.5 tabular">
          {HOST_STATE_READ_ORDER.filter((s) => r.counts[s]).map((s) => (
            <span key={s} className="flex items-center justify-between gap-4">
              <span className="flex items-center gap-1.5">
                <span className={cn("size-2 rounded-sm", HOST_STATE_META[s].bar)} />
                {HOST_STATE_META[s].label}
              </span>
              <span>{numberFmt.format(r.counts[s]!)}</span>
            </span>
          ))}
        </span>
      }
    >
      <span tabIndex={0} className={cn("flex min-w-0 items-center gap-2.5", className)} data-testid="rollout-progress">
        <StateBar counts={r.counts} total={r.hostCount} className="w-28 shrink-0" />
        <span className="whitespace-nowrap text-xs tabular text-muted-foreground">
          <span className="text-foreground">{numberFmt.format(done)}</span>/{numberFmt.format(r.hostCount)}
          {bad > 0 ? <span className="ml-1.5 text-bad">{numberFmt.format(bad)} failed</span> : null}
          {inFlight > 0 ? <span className="ml-1.5 text-warn">{numberFmt.format(inFlight)} in flight</span> : null}
        </span>
      </span>
    </Tooltip>
  );
}
