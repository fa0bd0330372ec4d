import { describe, expect, it } from "vitest";
import { RolloutStrategySchema, type RolloutStrategy } from "@/lib/api/schemas";
import { ACTIONS, decideAction, decideStep, pauseReason, type OperatorAction, type StepDecision, type StepRollout, type WaveCount } from "@/lib/rollouts/decide";
import type { RolloutHostState } from "@/lib/rollouts/states";

const NOW = new Date("2026-12-02T10:00:00Z");
const strategy = (s: Partial<RolloutStrategy> = {}): RolloutStrategy => RolloutStrategySchema.parse(s);
const running = (r: Partial<StepRollout> = {}): StepRollout => ({ status: "running", hostCount: 10, currentWave: 0, nextWaveAt: null, canaryApproved: false, failuresAccepted: 0, ...r });
/** `w(0, { succeeded: 1 }, 1, { pending: 4 })`: counts per wave. */
const w = (...spec: (number | Partial<Record<RolloutHostState, number>>)[]): WaveCount[] => {
  const out: WaveCount[] = [];
  for (let i = 0; i < spec.length; i += 2) {
    for (const [state, n] of Object.entries(spec[i + 1] as object)) out.push({ wave: spec[i] as number, state: state as RolloutHostState, n: n as number });
  }
  return out;
};
const at = (sec: number) => new Date(NOW.getTime() + sec * 1000);

type Want = Partial<Pick<StepDecision, "status" | "currentWave" | "nextWaveAt" | "pause" | "dispatch" | "event">>;

// Each row: the rollout, its strategy, its hosts per wave now → what the step decides.
const STEPS: [string, StepRollout, RolloutStrategy, WaveCount[], Want][] = [
  ["dispatches the canary first", running(), strategy({ canary: 1 }), w(0, { pending: 1 }, 1, { pending: 9 }), { status: "running", currentWave: 0, dispatch: { wave: 0, slots: 50 }, pause: null, event: null }],
  ["fills only the free in-flight slots", running({ currentWave: 1 }), strategy({ maxInFlight: 3 }), w(0, { succeeded: 1 }, 1, { downloading: 2, pending: 7 }), { dispatch: { wave: 1, slots: 1 } }],
  ["dispatches nothing with every slot in flight", running({ currentWave: 1 }), strategy({ maxInFlight: 2 }), w(1, { applying: 2, pending: 7 }), { dispatch: null, status: "running" }],
  ["moves to the next wave once the canary is done", running(), strategy(), w(0, { succeeded: 1 }, 1, { pending: 9 }), { currentWave: 1, dispatch: { wave: 1, slots: 50 } }],
  ["pauses on a failed canary, whatever the budget", running(), strategy({ failureBudget: 5 }), w(0, { failed: 1 }, 1, { pending: 9 }), { status: "paused", pause: { kind: "failures", cause: "canary" }, dispatch: null, event: "paused", currentWave: 0 }],
  ["pauses on an unreachable canary", running(), strategy(), w(0, { unreachable: 1 }, 1, { pending: 9 }), { status: "paused", pause: { kind: "failures", cause: "canary" } }],
  ["goes on within a budget by count", running({ currentWave: 1 }), strategy({ failureBudget: 2 }), w(0, { succeeded: 1 }, 1, { failed: 2, pending: 7 }), { status: "running", dispatch: { wave: 1, slots: 50 } }],
  ["pauses past a budget by count", running({ currentWave: 1 }), strategy({ failureBudget: 2 }), w(0, { succeeded: 1 }, 1, { failed: 2, unreachable: 1, pending: 6 }), { status: "paused", pause: { kind: "failures", cause: "budget", failures: 3, budget: 2 }, dispatch: null }],
  ["goes on within a budget by percent (20% of 10 = 2)", running({ currentWave: 1 }), strategy({ failureBudget: "20%" }), w(0, { succeeded: 1 }, 1, { failed: 2, pending: 7 }), { status: "running" }],
  ["pauses past a budget by percent", running({ currentWave: 1, hostCount: 10 }), strategy({ failureBudget: "20%" }), w(0, { succeeded: 1 }, 1, { failed: 3, pending: 6 }), { pause: { kind: "failures", cause: "budget", failures: 3, budget: 2 } }],
  ["after a resume, counts only new failures", running({ currentWave: 1, failuresAccepted: 3 }), strategy({ failureBudget: 0 }), w(0, { succeeded: 1 }, 1, { failed: 3, pending: 6 }), { status: "running", dispatch: { wave: 1, slots: 50 } }],
  ["after a resume, pauses on one new failure past the budget", running({ currentWave: 1, failuresAccepted: 3 }), strategy({ failureBudget: 0 }), w(0, { succeeded: 1 }, 1, { failed: 4, pending: 5 }), { pause: { kind: "failures", cause: "budget", failures: 1, budget: 0 } }],
  ["a failed canary host accepted by a resume does not pause again", running({ failuresAccepted: 1 }), strategy(), w(0, { failed: 1 }, 1, { pending: 9 }), { status: "running", currentWave: 1, dispatch: { wave: 1, slots: 50 } }],
  ["pauses for approval after the canary", running(), strategy({ pauseAfterCanary: true }), w(0, { succeeded: 1 }, 1, { pending: 5 }, 2, { pending: 4 }), { status: "paused", currentWave: 1, pause: { kind: "approval", canaryDone: 1, rest: 9 }, dispatch: null, event: "paused" }],
  ["does not ask again once approved", running({ canaryApproved: true }), strategy({ pauseAfterCanary: true }), w(0, { succeeded: 1 }, 1, { pending: 9 }), { status: "running", currentWave: 1, dispatch: { wave: 1, slots: 50 } }],
  ["waits between waves: sets the time, dispatches nothing", running({ currentWave: 1 }), strategy({ waitBetweenWavesSec: 60 }), w(0, { succeeded: 1 }, 1, { succeeded: 4 }, 2, { pending: 5 }), { currentWave: 2, nextWaveAt: at(60), dispatch: null, status: "running" }],
  ["goes on waiting before the time", running({ currentWave: 2, nextWaveAt: at(30) }), strategy({ waitBetweenWavesSec: 60 }), w(1, { succeeded: 4 }, 2, { pending: 5 }), { nextWaveAt: at(30), dispatch: null }],
  ["dispatches once the time has come", running({ currentWave: 2, nextWaveAt: at(-1) }), strategy({ waitBetweenWavesSec: 60 }), w(1, { succeeded: 4 }, 2, { pending: 5 }), { nextWaveAt: null, dispatch: { wave: 2, slots: 50 } }],
  ["completes when no wave has an open host", running({ currentWave: 2 }), strategy({ failureBudget: 1 }), w(0, { succeeded: 1 }, 1, { succeeded: 4, failed: 1 }, 2, { skipped: 4 }), { status: "completed", event: "completed", dispatch: null }],
  ["completes a paused rollout whose last hosts finished", running({ status: "paused", currentWave: 1 }), strategy(), w(0, { succeeded: 1 }, 1, { failed: 9 }), { status: "completed", event: "completed" }],
  ["leaves a paused rollout paused", running({ status: "paused", currentWave: 1 }), strategy(), w(0, { succeeded: 1 }, 1, { failed: 1, pending: 8 }), { status: "paused", dispatch: null, event: null, pause: null }],
  ["an abort with hosts in flight waits for them", running({ status: "aborting", currentWave: 1 }), strategy(), w(1, { applying: 2, skipped: 7 }), { status: "aborting", event: null, dispatch: null }],
  ["an abort ends when nothing is in flight", running({ status: "aborting", currentWave: 1 }), strategy(), w(1, { succeeded: 2, skipped: 7 }), { status: "aborted", event: "abort_finished", dispatch: null }],
  ["an abort does not complete while hosts are in flight, even with none waiting", running({ status: "aborting" }), strategy(), w(0, { verifying: 1 }), { status: "aborting" }],
];

describe("decideStep", () => {
  it.each(STEPS)("%s", (_what, rollout, s, waves, want) => {
    const d = decideStep({ rollout, strategy: s, waves, now: NOW });
    expect(d).toMatchObject(want);
  });

  it("counts every state of every wave", () => {
    expect(decideStep({ rollout: running(), strategy: strategy(), waves: w(0, { succeeded: 1 }, 1, { succeeded: 2, pending: 3 }), now: NOW }).counts).toEqual({ succeeded: 3, pending: 3 });
  });

  it.each([
    [{ kind: "approval", canaryDone: 2, rest: 8 } as const, null, "canary succeeded on 2 host(s); approve to continue with the other 8"],
    [{ kind: "failures", cause: "canary" } as const, { hostname: "web-1", error: "refused" }, "canary failed on web-1: refused"],
    [{ kind: "failures", cause: "canary" } as const, null, "canary failed on a host: see its log"],
    [{ kind: "failures", cause: "budget", failures: 1, budget: 0 } as const, null, "failure budget exceeded: 1 host failed, the budget allows 0"],
  ])("says why it paused: %j", (p, host, text) => {
    expect(pauseReason(p, host)).toBe(text);
  });
});

// Every action from every status (and pause kind): what it does, or the refusal an operator reads.
const STATUSES = ["running", "paused", "aborting", "aborted", "completed"] as const;
const PAUSES = ["operator", "failures", "approval"] as const;

describe("decideAction", () => {
  const cases: [OperatorAction, string, string | null, ReturnType<typeof decideAction>][] = [];
  for (const action of Object.keys(ACTIONS) as OperatorAction[]) {
    for (const status of STATUSES) {
      for (const pauseKind of status === "paused" ? PAUSES : [null]) {
        cases.push([action, status, pauseKind, decideAction({ action, status, pauseKind, failures: 2, inFlight: 0 })]);
      }
    }
  }

  it("allows exactly the transitions of the table", () => {
    const allowed = cases.filter(([, , , d]) => d.ok).map(([a, s, k]) => `${a} ${s}${k ? `/${k}` : ""}`);
    expect(allowed).toEqual([
      "pause running",
      "resume paused/operator",
      "resume paused/failures",
      "resume paused/approval",
      "approve paused/approval",
      "abort running",
      "abort paused/operator",
      "abort paused/failures",
      "abort paused/approval",
    ]);
  });

  it.each([
    ["pause", "running", null, {}, { status: "paused", pauseKind: "operator", pauseReason: "operator" }],
    ["resume", "paused", "operator", {}, { status: "running", pauseKind: null, pauseReason: null }],
    ["resume", "paused", "failures", { failures: 3 }, { status: "running", pauseKind: null, pauseReason: null, failuresAccepted: 3 }],
    ["resume", "paused", "approval", {}, { status: "running", pauseKind: null, pauseReason: null, canaryApproved: true }],
    ["approve", "paused", "approval", {}, { status: "running", pauseKind: null, pauseReason: null, canaryApproved: true }],
    ["abort", "running", null, { inFlight: 3 }, { status: "aborting", pauseKind: null, pauseReason: null, nextWaveAt: null }],
    ["abort", "paused", "failures", { inFlight: 0 }, { status: "aborted", pauseKind: null, pauseReason: null, nextWaveAt: null, finished: true }],
  ] as const)("%s from %s (%s) %j", (action, status, pauseKind, extra, change) => {
    expect(decideAction({ action, status, pauseKind, ...extra })).toEqual({ ok: true, change });
  });

  it.each([
    ["pause", "paused", "operator", "is paused; it cannot be paused"],
    ["resume", "running", null, "is running; it cannot be resumed"],
    ["abort", "completed", null, "is completed; it cannot be aborted"],
    ["abort", "aborting", null, "is aborting; it cannot be aborted"],
    ["approve", "paused", "failures", "is not waiting for approval (it is paused)"],
    ["approve", "running", null, "is not waiting for approval (it is running)"],
  ] as const)("refuses %s from %s (%s)", (action, status, pauseKind, reason) => {
    expect(decideAction({ action, status, pauseKind })).toEqual({ ok: false, reason });
  });
});
