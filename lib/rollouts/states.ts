// The states of a rollout's host and what they mean, defined once: the database enum (Prisma's,
// from schema.prisma) is the list; this module names its sets, its orders and how an agent's job
// phase moves a host. Browser-safe: the console's components import it, and lib/rollouts/states-sql.ts
// renders the same sets for SQL.
import { JOB_PHASE, type JobPhase } from "@/agent/protocol";
import { RolloutHostState as DbRolloutHostState } from "@/lib/generated/prisma/enums";

export type RolloutHostState = (typeof DbRolloutHostState)[keyof typeof DbRolloutHostState];

/** Each state by name (`HOST.succeeded`), so code never spells one as a string. */
export const HOST: { readonly [K in RolloutHostState]: K } = DbRolloutHostState;

/** Every state, in the database enum's order. */
export const ROLLOUT_HOST_STATES = Object.values(HOST) as [RolloutHostState, ...RolloutHostState[]];

/** Planned, not yet sent to the agent. */
export const WAITING_HOST_STATES = [HOST.pending, HOST.waiting_for_build] as const satisfies readonly RolloutHostState[];
/** Sent to the agent and not finished: the agent is working on it, or the console waits to hear. */
export const IN_FLIGHT_HOST_STATES = [HOST.dispatched, HOST.downloading, HOST.applying, HOST.verifying] as const satisfies readonly RolloutHostState[];
/** Not finished: waiting or in flight. A host in one of these belongs to the rollout still. */
export const OPEN_HOST_STATES = [...WAITING_HOST_STATES, ...IN_FLIGHT_HOST_STATES] as const;
/** Finished: nothing more happens to the host in this rollout. */
export const FINAL_HOST_STATES = [HOST.succeeded, HOST.failed, HOST.skipped, HOST.unreachable, HOST.reverted] as const satisfies readonly RolloutHostState[];
/** Finished with the patch in the host's kernel (an apply) or out of it (a rollback). */
export const DONE_HOST_STATES = [HOST.succeeded, HOST.reverted] as const satisfies readonly RolloutHostState[];
/** Finished badly: what a rollout's failure budget counts. */
export const FAILED_HOST_STATES = [HOST.failed, HOST.unreachable] as const satisfies readonly RolloutHostState[];
/** Where a rollout may hold the patch live: applied, or on the way (what a rollback must take back). */
export const MAY_BE_LIVE_HOST_STATES = [HOST.succeeded, ...IN_FLIGHT_HOST_STATES] as const;

/** Furthest along first. */
const byProgress = (states: readonly RolloutHostState[]) => [...states].reverse();

/** The order an operator reads states in (lists, counts): problems first, then progress (furthest first), then the rest. */
export const HOST_STATE_READ_ORDER: readonly RolloutHostState[] = [
  ...FAILED_HOST_STATES,
  ...byProgress(IN_FLIGHT_HOST_STATES),
  ...byProgress(WAITING_HOST_STATES),
  ...DONE_HOST_STATES,
  HOST.skipped,
];

/** The order of a progress bar's segments: finished first (left), then in flight, then waiting. */
export const HOST_STATE_BAR_ORDER: readonly RolloutHostState[] = [
  ...DONE_HOST_STATES,
  ...FAILED_HOST_STATES,
  ...byProgress(IN_FLIGHT_HOST_STATES),
  HOST.waiting_for_build,
  HOST.skipped,
  HOST.pending,
];

/** Each job phase by name (`PHASE.accepted`). */
export const PHASE = JOB_PHASE;

/**
 * How far along a job phase is: an update never moves a host back (a late or repeated one is
 * ignored); the two final phases rank the same, so the later of them wins.
 */
export const PHASE_RANK: Readonly<Record<JobPhase, number>> = {
  [PHASE.accepted]: 1,
  [PHASE.downloading]: 2,
  [PHASE.applying]: 3,
  [PHASE.verifying]: 4,
  [PHASE.succeeded]: 5,
  [PHASE.failed]: 5,
};

/**
 * The host state a job phase moves a host to (null: it keeps its state; `accepted` only says the
 * agent has the job). A rollback's success is `reverted`.
 */
export function stateOfPhase(phase: JobPhase, kind: "apply" | "rollback"): RolloutHostState | null {
  switch (phase) {
    case PHASE.accepted:
      return null;
    case PHASE.succeeded:
      return kind === "rollback" ? HOST.reverted : HOST.succeeded;
    default:
      return phase;
  }
}

/** The rank of the phase that put a host in an in-flight state (a dispatched host has had none). */
export const IN_FLIGHT_RANK: Readonly<Record<(typeof IN_FLIGHT_HOST_STATES)[number], number>> = {
  [HOST.dispatched]: 1,
  [HOST.downloading]: PHASE_RANK.downloading,
  [HOST.applying]: PHASE_RANK.applying,
  [HOST.verifying]: PHASE_RANK.verifying,
};

export const isIn = (states: readonly RolloutHostState[], s: RolloutHostState): boolean => states.includes(s);

/** Whether a stored string (an event's details) names a host state. */
export const isHostState = (s: string): s is RolloutHostState => (ROLLOUT_HOST_STATES as readonly string[]).includes(s);

/** Hosts per state (a rollout's, a wave's). */
export type StateCounts = Partial<Record<RolloutHostState, number>>;

/** Failures that count against the budget: hosts that failed or could not be reached. */
export function failuresOf(counts: StateCounts): number {
  return FAILED_HOST_STATES.reduce((n, s) => n + (counts[s] ?? 0), 0);
}
