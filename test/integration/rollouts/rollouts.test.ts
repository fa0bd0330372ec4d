// Rollouts end to end with real parts: a console process (engine, gateway, API), a simulated fleet
// of real Agent instances (simulate backend) connected over socket.io, real Postgres. Canary then
// waves, the failure budget pausing a rollout, abort, rollback, a console SIGKILLed mid-rollout,
// and an agent losing its connection mid-apply. After each: every host in exactly one final state,
// and no kernel asked to apply a patch twice.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimAgent } from "@/agent/sim/fleet";
import type { Fleet } from "@/agent/sim/fleet";
import type { Group, PatchDetail, RolloutDetail, RolloutStrategyInput, RolloutSummary } from "@/lib/api/schemas";
import { expectJson, eventually, startSimulatedFleet, startTestConsole, type TestConsole } from "../../helpers/console";
import { diffFixture } from "../../helpers/fixtures";

const FLEET = 10;

let c: TestConsole;
let fleet: Fleet;
let group: Group;

const post = (p: string, body: unknown = {}) => c.api(p, { method: "POST", json: body, headers: { origin: c.url } });

async function stage(fixtureName: string): Promise<PatchDetail> {
  return expectJson<PatchDetail>(await post("/api/v1/patches", { title: `fix from ${fixtureName}`, severity: "high", cves: [], diff: diffFixture(fixtureName) }));
}

async function start(patchId: string, strategy: RolloutStrategyInput): Promise<RolloutSummary> {
  return expectJson<RolloutSummary>(await post("/api/v1/rollouts", { patchId, groupId: group.id, strategy }), 201);
}

const detail = async (id: string) => expectJson<RolloutDetail>(await c.api(`/api/v1/rollouts/${id}`));

async function until(id: string, pred: (r: RolloutDetail) => boolean, what: string, timeoutMs = 60_000): Promise<RolloutDetail> {
  return eventually(async () => {
    const r = await detail(id);
    return pred(r) ? r : null;
  }, { what: `rollout ${what}`, timeoutMs, intervalMs: 100 });
}

/** How many times each host's kernel actually loaded `moduleName` (changed its state). */
function appliesOf(moduleName: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of fleet.agents) out.set(a.agent.hostId!, a.kernel.operations.filter((o) => o.kind === "apply" && o.moduleName === moduleName && o.outcome === "changed").length);
  return out;
}

const agentOf = (hostId: string): SimAgent => fleet.agents.find((a) => a.agent.hostId === hostId)!;
const FINAL = ["succeeded", "failed", "skipped", "unreachable", "reverted"];

beforeAll(async () => {
  c = await startTestConsole({ env: { SPLICER_SIMULATE_BUILD_MS: "200" } });
  fleet = await startSimulatedFleet(c, { agents: FLEET, seed: "rollouts" });
  group = await expectJson<Group>(await post("/api/v1/groups", { name: "everything", selector: { all: true } }), 201);
  expect(group.memberCount).toBe(FLEET);
});

afterAll(async () => {
  await fleet?.stop();
  await c?.stop();
});

describe("rollouts", () => {
  let first: RolloutDetail;

  it("patches the canary first, then the waves in order, one result per host, and reports the patch live", async () => {
    fleet.setBehavior({ applyMs: 150, failureRate: 0, forceFailure: null });
    const patch = await stage("function-only-cmdline.diff");
    const started = await start(patch.id, { canary: 1, waves: "50%", maxInFlight: 3 });
    expect(started.status).toBe("running");
    expect(started.hostCount).toBe(FLEET);
    first = await until(started.id, (r) => r.status === "completed", "completed");
    expect(first.counts).toEqual({ succeeded: FLEET });
    expect(first.waves.map((w) => w.hosts)).toEqual([1, 5, 4]);

    // Waves never overlap: each wave starts after the previous one finished.
    const byWave = (w: number) => first.hosts.filter((h) => h.wave === w);
    for (let w = 1; w < first.waves.length; w++) {
      const prevEnd = Math.max(...byWave(w - 1).map((h) => Date.parse(h.finishedAt!)));
      const nextStart = Math.min(...byWave(w).map((h) => Date.parse(h.startedAt!)));
      expect(nextStart).toBeGreaterThanOrEqual(prevEnd);
    }
    // Every kernel loaded it exactly once, and the console sees it live (effective kernel).
    expect([...appliesOf(first.patch.moduleName).values()]).toEqual(Array(FLEET).fill(1));
    const host = await eventually(async () => {
      const h = await expectJson<{ effective: { livepatches: { name: string; enabled: boolean; patch: { id: string } | null }[]; missing: { patchId: string }[] } }>(
        await c.api(`/api/v1/hosts/${first.hosts[0].hostId}`),
      );
      return h.effective.livepatches.some((l) => l.name === first.patch.moduleName && l.enabled) ? h : null;
    }, { what: "the patch live in the host's inventory" });
    expect(host.effective.livepatches.find((l) => l.name === first.patch.moduleName)?.patch?.id).toBe(patch.id);
    expect(host.effective.missing.map((m) => m.patchId)).not.toContain(patch.id);

    // A second rollout of the same patch has nothing to do, and says why.
    const again = await post("/api/v1/rollouts", { patchId: patch.id, groupId: group.id });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain(`already applied`);

    // Listed by host, each rollout carries that host's result.
    const byHost = await expectJson<{ items: { id: string; hostResult?: { state: string } }[] }>(await c.api(`/api/v1/rollouts?hostId=${first.hosts[0].hostId}`));
    expect(byHost.items.find((x) => x.id === first.id)?.hostResult?.state).toBe("succeeded");

    // The audit log answers "who patched this host".
    const audit = await expectJson<{ items: { action: string; actorName: string }[] }>(await c.api(`/api/v1/audit?host=${first.hosts[0].hostId}`));
    expect(audit.items.map((e) => e.action)).toEqual(expect.arrayContaining(["rollout.started", "rollout.completed"]));
    expect(audit.items.find((e) => e.action === "rollout.started")?.actorName).toBe("admin");
  });

  it("rolls back: reverts the patch on every host where the rollout applied it, as a rollout of its own", async () => {
    const rb = await expectJson<RolloutSummary>(await post(`/api/v1/rollouts/${first.id}/rollback`, { reason: "regression in /proc/cmdline" }), 201);
    expect(rb.kind).toBe("rollback");
    expect(rb.rollbackOfId).toBe(first.id);
    const done = await until(rb.id, (r) => r.status === "completed", "rollback completed");
    expect(done.counts).toEqual({ reverted: FLEET });
    for (const a of fleet.agents) expect((await a.kernel.listLivepatches()).map((l) => l.name)).not.toContain(first.patch.moduleName);
    expect((await detail(first.id)).rollbackId).toBe(rb.id);
    const twice = await post(`/api/v1/rollouts/${first.id}/rollback`);
    expect(twice.status).toBe(409);
    expect(await twice.text()).toContain("already rolled back");
  });

  it("pauses exactly when the failure budget is exceeded, with the reason; resuming accepts those failures", async () => {
    fleet.setBehavior({ applyMs: 50, failureRate: 0, forceFailure: null });
    const failing = fleet.agents.slice(0, 3);
    for (const a of failing) a.kernel.setBehavior({ forceFailure: "refused" });
    const patch = await stage("bounds-check-ipv4.diff");
    // One host at a time, so "exactly" is observable: nothing is dispatched after the second failure.
    const r = await start(patch.id, { canary: 0, waves: "100%", maxInFlight: 1, failureBudget: 1 });
    const paused = await until(r.id, (x) => x.status === "paused", "paused");
    expect(paused.pauseKind).toBe("failures");
    expect(paused.pauseReason).toBe("failure budget exceeded: 2 hosts failed, the budget allows 1");
    expect(paused.failures).toBe(2);
    const failed = paused.hosts.filter((h) => h.state === "failed");
    expect(failed).toHaveLength(2);
    expect(failed[0].error).toMatch(/insmod|Invalid|refused|ERROR/i);
    // Paused means paused: a second look later shows no host started since.
    await new Promise((res) => setTimeout(res, 1500));
    const still = await detail(r.id);
    expect(still.status).toBe("paused");
    const started = (d: RolloutDetail) => d.hosts.filter((h) => h.startedAt !== null).length;
    expect(started(paused)).toBe(started(still));

    // A failed host's log is the agent's.
    const log = await expectJson<{ log: string; error: string }>(await c.api(`/api/v1/rollouts/${r.id}/hosts/${failed[0].hostId}`));
    expect(log.log.length).toBeGreaterThan(0);

    const resumed = await expectJson<RolloutSummary>(await post(`/api/v1/rollouts/${r.id}/resume`));
    expect(resumed.status).toBe("running");
    const done = await until(r.id, (x) => x.status === "completed", "completed after resume");
    // The third failing host is one failure beyond those accepted: within the budget of 1.
    expect(done.counts).toEqual({ succeeded: FLEET - 3, failed: 3 });
    for (const a of failing) a.kernel.setBehavior({ forceFailure: null });
  });

  it("a failed canary pauses the rollout before any wave starts", async () => {
    // Canaries are chosen by kernel popularity, then hostname: make every host fail and see one try.
    fleet.setBehavior({ applyMs: 0, forceFailure: "stall" });
    const patch = await stage("syscall-define.diff");
    const r = await start(patch.id, { canary: 1, waves: "50%", failureBudget: "50%" });
    const paused = await until(r.id, (x) => x.status === "paused", "paused after the canary");
    expect(paused.pauseReason).toMatch(/^canary failed on /);
    expect(paused.hosts.filter((h) => h.wave === 0).map((h) => h.state)).toEqual(["failed"]);
    expect(paused.hosts.filter((h) => (h.wave ?? 0) > 0).every((h) => ["pending", "waiting_for_build"].includes(h.state))).toBe(true);
    const aborted = await expectJson<RolloutSummary>(await post(`/api/v1/rollouts/${r.id}/abort`, { reason: "canary broke" }));
    expect(aborted.status).toBe("aborted");
    const after = await detail(r.id);
    expect(after.hosts.filter((h) => h.state === "skipped").every((h) => h.error?.startsWith("rollout aborted by admin: canary broke"))).toBe(true);
    fleet.setBehavior({ forceFailure: null });
  });

  it("abort stops dispatching; hosts in flight finish; the rest are skipped with the reason", async () => {
    fleet.setBehavior({ applyMs: 2500, forceFailure: null });
    // Not another fs/proc/cmdline.c patch: that one would be built on the one rolled back above (stacking).
    const patch = await stage("global-added-and-static-local.diff");
    const r = await start(patch.id, { canary: 0, waves: "100%", maxInFlight: 2 });
    await until(r.id, (x) => x.hosts.filter((h) => h.state === "applying").length === 2, "two hosts applying");
    const aborting = await expectJson<RolloutSummary>(await post(`/api/v1/rollouts/${r.id}/abort`));
    expect(aborting.status).toBe("aborting");
    const done = await until(r.id, (x) => x.status === "aborted", "aborted");
    expect(done.counts).toEqual({ succeeded: 2, skipped: FLEET - 2 });
    expect((await post(`/api/v1/rollouts/${r.id}/resume`)).status).toBe(409);
  });

  it("survives the console being killed mid-rollout: every host ends in exactly one final state, none applied twice", async () => {
    fleet.setBehavior({ applyMs: 400, forceFailure: null });
    const patch = await stage("rename-with-change.diff");
    const r = await start(patch.id, { canary: 1, waves: "50%", maxInFlight: 3 });
    await until(r.id, (x) => (x.counts.succeeded ?? 0) >= 2, "two hosts done");
    await c.kill();
    await c.restart();
    const done = await until(r.id, (x) => x.status === "completed", "completed after the restart", 90_000);
    expect(done.counts).toEqual({ succeeded: FLEET });
    const rows = await c.db.query<{ n: string }>(`select count(*)::text as n from "RolloutHost" where "rolloutId" = $1`, [r.id]);
    expect(rows[0].n).toBe(String(FLEET));
    expect([...appliesOf(done.patch.moduleName).values()]).toEqual(Array(FLEET).fill(1));
    await fleet.waitConnected(FLEET, 60_000);
  });

  it("an agent that loses its connection mid-apply reports the result after reconnecting, applied once", async () => {
    fleet.setBehavior({ applyMs: 1500, forceFailure: null });
    const patch = await stage("userspace-selftest.diff");
    const r = await start(patch.id, { canary: 1, waves: "100%", maxInFlight: 1 });
    const applying = await until(r.id, (x) => x.hosts.some((h) => h.wave === 0 && h.state === "applying"), "canary applying");
    const canary = applying.hosts.find((h) => h.wave === 0)!;
    const sim = agentOf(canary.hostId);
    // Drop the transport as a network failure would; the agent reconnects by itself.
    const socket = (sim.agent as unknown as { connection: { socket: { io: { engine: { close(): void } } } | null } }).connection.socket;
    expect(socket).not.toBeNull();
    socket!.io.engine.close();
    // The canary's apply is under way; the other hosts need not be slow.
    fleet.setBehavior({ applyMs: 50 });
    const done = await until(r.id, (x) => x.status === "completed", "completed");
    expect(done.counts).toEqual({ succeeded: FLEET });
    expect(appliesOf(done.patch.moduleName).get(canary.hostId)).toBe(1);
    expect(sim.agent.connects).toBeGreaterThanOrEqual(2);
  });

  it("refuses bad input with a clear message, and viewers cannot start or steer rollouts", async () => {
    const patches = await expectJson<{ items: { id: string }[] }>(await c.api("/api/v1/patches"));
    const bad = await post("/api/v1/rollouts", { patchId: patches.items[0].id, groupId: group.id, strategy: { waves: "0%" } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("a wave needs at least 1 host");
    const unknown = await post("/api/v1/rollouts", { patchId: "00000000-0000-4000-8000-000000000000", groupId: group.id });
    expect(unknown.status).toBe(404);
    const reboot = await stage("struct-field-skbuff.diff");
    const refused = await post("/api/v1/rollouts", { patchId: reboot.id, groupId: group.id });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain("requires a reboot");
    const badGroup = await post("/api/v1/groups", { name: "nothing", selector: {} });
    expect(badGroup.status).toBe(400);
    expect(await badGroup.text()).toContain("a selector needs labels, kernel releases, distros or hosts");
    const dup = await post("/api/v1/groups", { name: "everything", selector: { all: true } });
    expect(dup.status).toBe(409);

    await expectJson(await post("/api/v1/operators", { username: "vera", password: "viewer-password-1", role: "viewer" }));
    const cookie = await c.login("vera", "viewer-password-1");
    const asViewer = await c.api("/api/v1/rollouts", { method: "POST", cookie, json: { patchId: patches.items[0].id, groupId: group.id }, headers: { origin: c.url } });
    expect(asViewer.status).toBe(403);
    const list = await c.api("/api/v1/rollouts", { cookie });
    expect(list.status).toBe(200);
    const any = (await list.json()) as { items: RolloutSummary[] };
    expect((await c.api(`/api/v1/rollouts/${any.items[0].id}/pause`, { method: "POST", cookie, json: {}, headers: { origin: c.url } })).status).toBe(403);
  });

  it("a host that goes offline before its turn ends unreachable after the host timeout, and counts against the budget", async () => {
    fleet.setBehavior({ applyMs: 0, forceFailure: null });
    const gone = fleet.agents[fleet.agents.length - 1];
    await gone.agent.stop();
    await eventually(async () => {
      const h = await expectJson<{ online: boolean }>(await c.api(`/api/v1/hosts/${gone.agent.hostId}`));
      return h.online ? null : true;
    }, { what: "the stopped agent's host offline" });
    const patch = await stage("header-inline.diff");
    const r = await start(patch.id, { canary: 0, waves: "100%", hostTimeoutSec: 5, failureBudget: 1 });
    const done = await until(r.id, (x) => x.status === "completed", "completed", 30_000);
    expect(done.counts).toEqual({ succeeded: FLEET - 1, unreachable: 1 });
    const host = done.hosts.find((h) => h.hostId === gone.agent.hostId)!;
    expect(host.state).toBe("unreachable");
    expect(host.error).toBe("host offline; no result within 5 s");
    expect(done.failures).toBe(1);
  });

  it("leaves every host of every rollout in exactly one final state", async () => {
    const rows = await c.db.query<{ state: string }>(`select state::text from "RolloutHost"`);
    expect(rows.every((r) => FINAL.includes(r.state))).toBe(true);
    const dupes = await c.db.query(`select "rolloutId", "hostId" from "RolloutHost" group by 1, 2 having count(*) > 1`);
    expect(dupes).toEqual([]);
  });
});
