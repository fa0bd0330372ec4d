// What a rollout does next, as pure functions: one engine step (decideStep) and an operator's
// action (decideAction). lib/rollouts/engine.ts and actions.ts do the database work around them.
import { resolveCount, type RolloutStrategy } from "@/lib/api/schemas";
import { FAILED_HOST_STATES, failuresOf, HOST, IN_FLIGHT_HOST_STATES, isIn, OPEN_HOST_STATES, type RolloutHostState, type StateCounts } from "./states";

/** A rollout that an engine step may advance. */
export interface StepRollout {
  status: "running" | "paused" | "aborting";
  hostCount: number;
  currentWave: number;
  nextWaveAt: Date | null;
  canaryApproved: boolean;
  /** Failures an operator accepted by resuming after a failure pause: the budget counts new ones. */
  failuresAccepted: number;
}

/** Hosts in one state of one wave (hosts skipped up front have no wave and are not counted). */
export interface WaveCount {
  wave: number;
  state: RolloutHostState;
  n: number;
}

export type StepPause =
  | { kind: "failures"; cause: "canary" }
  | { kind: "failures"; cause: "budget"; failures: number; budget: number }
  | { kind: "approval"; canaryDone: number; rest: number };

export interface StepDecision {
  status: "running" | "paused" | "aborting" | "aborted" | "completed";
  currentWave: number;
  nextWaveAt: Date | null;
  pause: StepPause | null;
  /** Dispatch up to `slots` pending hosts of `wave` now. */
  dispatch: { wave: number; slots: number } | null;
  counts: StateCounts;
  /** What the step ends, for the audit log. */
  event: "abort_finished" | "completed" | "paused" | null;
}

/**
 * One step: finish an abort once nothing is in flight; complete once no wave has an open host;
 * otherwise, while running, pause on a failed canary or an exceeded failure budget, move to the
 * lowest open wave (pausing for approval after the canary, or waiting between waves, as the
 * strategy says), and fill the free in-flight slots from the current wave.
 */
export function decideStep(opts: { rollout: StepRollout; strategy: RolloutStrategy; waves: WaveCount[]; now: Date }): StepDecision {
  const { rollout: r, strategy, waves, now } = opts;
  const counts: StateCounts = {};
  const openWaves = new Set<number>();
  let inFlight = 0;
  let canaryFailures = 0;
  for (const w of waves) {
    counts[w.state] = (counts[w.state] ?? 0) + w.n;
    if (isIn(OPEN_HOST_STATES, w.state)) openWaves.add(w.wave);
    if (isIn(IN_FLIGHT_HOST_STATES, w.state)) inFlight += w.n;
    if (w.wave === 0 && isIn(FAILED_HOST_STATES, w.state)) canaryFailures += w.n;
  }
  const lowestOpen = openWaves.size ? Math.min(...openWaves) : null;
  const out: StepDecision = { status: r.status, currentWave: r.currentWave, nextWaveAt: r.nextWaveAt, pause: null, dispatch: null, counts, event: null };

  if (r.status === "aborting") {
    if (inFlight === 0) return { ...out, status: "aborted", event: "abort_finished" };
    return out;
  }
  if (lowestOpen === null) return { ...out, status: "completed", event: "completed" };
  if (r.status !== "running") return out;

  const budget = resolveCount(strategy.failureBudget, r.hostCount);
  const newFailures = failuresOf(counts) - r.failuresAccepted;
  if (strategy.canary > 0 && canaryFailures > 0 && newFailures > 0 && r.currentWave === 0) {
    return { ...out, status: "paused", pause: { kind: "failures", cause: "canary" }, event: "paused" };
  }
  if (newFailures > budget) {
    return { ...out, status: "paused", pause: { kind: "failures", cause: "budget", failures: newFailures, budget }, event: "paused" };
  }
  if (lowestOpen > out.currentWave) {
    const leavingCanary = out.currentWave === 0 && strategy.canary > 0;
    out.currentWave = lowestOpen;
    if (leavingCanary && strategy.pauseAfterCanary && !r.canaryApproved) {
      const rest = waves.filter((w) => w.wave > 0).reduce((a, w) => a + w.n, 0);
      return { ...out, status: "paused", pause: { kind: "approval", canaryDone: counts[HOST.succeeded] ?? counts[HOST.reverted] ?? 0, rest }, event: "paused" };
    }
    if (strategy.waitBetweenWavesSec > 0) out.nextWaveAt = new Date(now.getTime() + strategy.waitBetweenWavesSec * 1000);
  }
  const slots = strategy.maxInFlight - inFlight;
  if (slots > 0 && (!out.nextWaveAt || out.nextWaveAt <= now)) {
    out.nextWaveAt = null;
    out.dispatch = { wave: out.currentWave, slots };
  }
  return out;
}

/** The pause reason an operator reads. `canaryHost`: the first canary host that failed. */
export function pauseReason(p: StepPause, canaryHost?: { hostname: string; error: string | null } | null): string {
  switch (p.kind) {
    case "approval":
      return `canary succeeded on ${p.canaryDone} host(s); approve to continue with the other ${p.rest}`;
    case "failures":
      return p.cause === "canary"
        ? `canary failed on ${canaryHost?.hostname ?? "a host"}: ${canaryHost?.error ?? "see its log"}`
        : `failure budget exceeded: ${p.failures} host${p.failures === 1 ? "" : "s"} failed, the budget allows ${p.budget}`;
  }
}

export type OperatorAction = "pause" | "resume" | "approve" | "abort";
export type PauseKind = "operator" | "failures" | "approval";

/** The statuses each action applies to (and, for approve, the pause it answers). */
export const ACTIONS: Readonly<Record<OperatorAction, { from: readonly StepDecision["status"][]; pauseKind?: PauseKind }>> = {
  pause: { from: ["running"] },
  resume: { from: ["paused"] },
  approve: { from: ["paused"], pauseKind: "approval" },
  abort: { from: ["running", "paused"] },
};

/** The audit action and the refusal's wording of each action. */
export const DONE_AS: Readonly<Record<OperatorAction, string>> = { pause: "paused", resume: "resumed", approve: "approved", abort: "aborted" };

export interface ActionChange {
  status: "running" | "paused" | "aborting" | "aborted";
  pauseKind: PauseKind | null;
  /** Set by the caller for a pause (who, why); null clears it. */
  pauseReason: null | "operator";
  failuresAccepted?: number;
  canaryApproved?: true;
  nextWaveAt?: null;
  finished?: true;
}

/**
 * What an operator's action does to a rollout in `status` (paused for `pauseKind`), or why it
 * cannot. `failures`: the rollout's failures now (resuming after a failure pause accepts them);
 * `inFlight`: hosts in flight once an abort skipped the waiting ones (the abort ends when they do).
 */
export function decideAction(opts: {
  action: OperatorAction;
  status: string;
  pauseKind: string | null;
  failures?: number;
  inFlight?: number;
}): { ok: true; change: ActionChange } | { ok: false; reason: string } {
  const rule = ACTIONS[opts.action];
  const allowed = (rule.from as readonly string[]).includes(opts.status) && (rule.pauseKind === undefined || rule.pauseKind === opts.pauseKind);
  if (!allowed) {
    return { ok: false, reason: opts.action === "approve" ? `is not waiting for approval (it is ${opts.status})` : `is ${opts.status}; it cannot be ${DONE_AS[opts.action]}` };
  }
  switch (opts.action) {
    case "pause":
      return { ok: true, change: { status: "paused", pauseKind: "operator", pauseReason: "operator" } };
    case "resume":
      return {
        ok: true,
        change: {
          status: "running",
          pauseKind: null,
          pauseReason: null,
          ...(opts.pauseKind === "failures" ? { failuresAccepted: opts.failures ?? 0 } : {}),
          ...(opts.pauseKind === "approval" ? { canaryApproved: true as const } : {}),
        },
      };
    case "approve":
      return { ok: true, change: { status: "running", pauseKind: null, pauseReason: null, canaryApproved: true } };
    case "abort": {
      const inFlight = opts.inFlight ?? 0;
      return { ok: true, change: { status: inFlight > 0 ? "aborting" : "aborted", pauseKind: null, pauseReason: null, nextWaveAt: null, ...(inFlight > 0 ? {} : { finished: true as const }) } };
    }
  }
}
