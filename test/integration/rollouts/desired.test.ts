// What each host should have live, and drift, end to end: a real console, simulated hosts running
// the real Agent (simulate backend) that reboot, reload their kept patches, or lose one by hand.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Fleet, SimAgent } from "@/agent/sim/fleet";
import type { FleetSummary, Group, HostDetail, HostList, PatchDetail, RolloutDetail, RolloutSummary } from "@/lib/api/schemas";
import { livepatchModuleName } from "@/lib/livepatch/module-name";
import { eventually, expectJson, startSimulatedFleet, startTestConsole, type TestConsole } from "../../helpers/console";
import { diffFixture } from "../../helpers/fixtures";

let c: TestConsole;
let fleet: Fleet;
let patch: PatchDetail;
let applied: RolloutDetail;

const post = (p: string, body: unknown = {}) => c.api(p, { method: "POST", json: body, headers: { origin: c.url } });
const host = async (id: string) => expectJson<HostDetail>(await c.api(`/api/v1/hosts/${id}`));
const until = (id: string, what: string) =>
  eventually(async () => {
    const r = await expectJson<RolloutDetail>(await c.api(`/api/v1/rollouts/${id}`));
    return r.status === "completed" ? r : null;
  }, { what, timeoutMs: 60_000, intervalMs: 100 });
const hostOf = (i: number): SimAgent => fleet.agents[i]!;
const idOf = (i: number) => hostOf(i).agent.hostId!;

beforeAll(async () => {
  c = await startTestConsole({ env: { SPLICER_SIMULATE_BUILD_MS: "100" } });
  fleet = await startSimulatedFleet(c, { agents: 4, seed: "desired" });
  const group = await expectJson<Group>(await post("/api/v1/groups", { name: "all", selector: { all: true } }), 201);
  patch = await expectJson<PatchDetail>(await post("/api/v1/patches", { title: "cmdline fix", severity: "high", cves: ["CVE-2026-0001"], diff: diffFixture("function-only-cmdline.diff") }));
  const started = await expectJson<RolloutSummary>(await post("/api/v1/rollouts", { patchId: patch.id, groupId: group.id, strategy: { canary: 0, waves: 1 } }), 201);
  applied = await until(started.id, "the rollout completed");
  expect(applied.counts).toEqual({ succeeded: 4 });
});

afterAll(async () => {
  await fleet?.stop();
  await c?.stop();
});

describe("desired state and drift", () => {
  const MODULE = () => livepatchModuleName(patch.id);

  it("a host that has what its rollouts applied does not drift", async () => {
    const h = await host(idOf(0));
    expect(h.drifting).toBe(false);
    expect(h.drift).toMatchObject({ missing: [], unexpected: [] });
    const summary = await expectJson<FleetSummary>(await c.api("/api/v1/fleet/summary"));
    expect(summary.drifting).toBe(0);
  });

  it("a reboot into the same kernel: the agent reloads the patch before connecting, and the console shows the new boot with the patch live and no drift", async () => {
    const before = await host(idOf(0));
    const report = await hostOf(0).reboot();
    expect(report?.patches).toEqual([expect.objectContaining({ moduleName: MODULE(), outcome: "loaded" })]);
    const after = await eventually(async () => {
      const h = await host(idOf(0));
      return h.bootId !== before.bootId ? h : null;
    }, { what: "the new boot id" });
    expect(after.livepatches).toContainEqual({ name: MODULE(), enabled: true, transition: false });
    expect(after.drifting).toBe(false);
    expect(after.drift.reload).toMatchObject({ bootId: after.bootId, patches: [expect.objectContaining({ outcome: "loaded" })] });
    expect(after.events.map((e) => e.type)).toEqual(expect.arrayContaining(["rebooted", "reloaded"]));
  });

  it("a module removed by hand is drift, named as such, in the host page, the hosts filter, the fleet counts and /metrics", async () => {
    hostOf(1).kernel.setLivepatches([]);
    await hostOf(1).agent.refreshInventory(true);
    const h = await eventually(async () => {
      const d = await host(idOf(1));
      return d.drifting ? d : null;
    }, { what: "host 1 drifting" });
    expect(h.drift.missing).toEqual([expect.objectContaining({ patchId: patch.id, moduleName: MODULE(), cause: "removed", rolloutId: applied.id })]);
    const list = await expectJson<HostList>(await c.api("/api/v1/hosts?drifting=true"));
    expect(list.items.map((i) => i.id)).toEqual([idOf(1)]);
    expect(list.items[0]?.drifting).toBe(true);
    const steady = await expectJson<HostList>(await c.api("/api/v1/hosts?drifting=false"));
    expect(steady.items.map((i) => i.id).sort()).toEqual([idOf(0), idOf(2), idOf(3)].sort());
    const summary = await eventually(async () => {
      const s = await expectJson<FleetSummary>(await c.api("/api/v1/fleet/summary"));
      return s.drifting === 1 ? s : null;
    }, { what: "one drifting host in the summary" });
    expect(summary.drifting).toBe(1);
    const metrics = await (await fetch(`${c.url}/metrics`)).text();
    expect(metrics).toMatch(/^splicer_fleet_hosts\{state="drifting"\} 1$/m);
  });

  it("a group can turn reloading off: its members' agents are told at once, and a reboot then is drift that says so", async () => {
    const g = await expectJson<Group>(await post("/api/v1/groups", { name: "no reload", selector: { hostIds: [idOf(2)] }, reloadAtBoot: false }), 201);
    expect(g.reloadAtBoot).toBe(false);
    await eventually(async () => ((await hostOf(2).kept.reloadEnabled()) ? null : true), { what: "host 2's agent told not to reload" });
    expect(await hostOf(3).kept.reloadEnabled()).toBe(true);
    const report = await hostOf(2).reboot();
    expect(report?.patches.map((p) => p.outcome)).toEqual(["disabled"]);
    const h = await eventually(async () => {
      const d = await host(idOf(2));
      return d.drifting ? d : null;
    }, { what: "host 2 drifting" });
    expect(h.drift.missing[0]).toMatchObject({ cause: "reload_disabled" });
  });

  it("with the default setting the drift stays flagged; an operator re-applies from the host's page and the patch is back", async () => {
    expect((await host(idOf(1))).drift.missing[0]?.cause).toBe("removed");
    const r = await expectJson<{ rollouts: string[] }>(await post(`/api/v1/hosts/${idOf(1)}/reapply`));
    expect(r.rollouts).toHaveLength(1);
    const done = await until(r.rollouts[0]!, "the re-apply completed");
    expect(done).toMatchObject({ counts: { succeeded: 1 }, group: { id: null, name: "re-apply to 1 host" }, createdBy: "admin" });
    const h = await host(idOf(1));
    expect(h.livepatches).toContainEqual({ name: MODULE(), enabled: true, transition: false });
    expect(h.drifting).toBe(false);
    // Nothing left to re-apply: a clear refusal, not an empty rollout.
    expect((await post(`/api/v1/hosts/${idOf(1)}/reapply`)).status).toBe(409);
  });

  it("set to re-apply automatically, the console puts a removed patch back by itself, audited as the system; a host whose reload was turned off is left alone", async () => {
    expect((await c.api("/api/v1/settings", { method: "PATCH", json: { reconverge: "auto" }, headers: { origin: c.url } })).status).toBe(200);
    hostOf(0).kernel.setLivepatches([]);
    await hostOf(0).agent.refreshInventory(true);
    const back = await eventually(async () => {
      const h = await host(idOf(0));
      return !h.drifting && h.livepatches.some((l) => l.name === MODULE() && l.enabled) ? h : null;
    }, { what: "host 0 re-converged", timeoutMs: 60_000 });
    expect(back.drift.missing).toEqual([]);
    const audit = await expectJson<{ items: { actorType: string; action: string; details: Record<string, unknown> }[] }>(await c.api("/api/v1/audit?action=rollout.started"));
    expect(audit.items).toContainEqual(expect.objectContaining({ actorType: "system", details: expect.objectContaining({ group: "re-apply to 1 host", reason: expect.stringMatching(/re-convergence/) }) }));
    // Host 2 rebooted with reloading turned off: the operator's choice stands.
    const h2 = await host(idOf(2));
    expect(h2.drift.missing[0]?.cause).toBe("reload_disabled");
    expect((await c.api("/api/v1/settings", { method: "PATCH", json: { reconverge: "flag" }, headers: { origin: c.url } })).status).toBe(200);
  });

  it("a rollback takes the patch out of what the hosts should have: no drift left, and a later reboot loads nothing", async () => {
    const rb = await expectJson<RolloutSummary>(await post(`/api/v1/rollouts/${applied.id}/rollback`, { reason: "done with it" }), 201);
    const done = await until(rb.id, "the rollback completed");
    expect(done.counts).toEqual({ reverted: 4 });
    for (const i of [0, 1, 2, 3]) {
      const h = await host(idOf(i));
      expect(h.drifting).toBe(false);
      expect(h.drift.missing).toEqual([]);
    }
    // The revert made the agent forget the patch: nothing kept, nothing loaded at the next boot.
    expect(await hostOf(3).kept.list()).toEqual([]);
    expect(await hostOf(3).reboot()).toBeNull();
    expect(await hostOf(3).kernel.listLivepatches()).toEqual([]);
  });

  it("a staged patch's module loaded where no rollout applied it is drift too (unexpected), in the detail and the list alike", async () => {
    hostOf(3).kernel.setLivepatches([{ name: MODULE(), enabled: true, transition: false }]);
    await hostOf(3).agent.refreshInventory(true);
    const h = await eventually(async () => {
      const d = await host(idOf(3));
      return d.drifting ? d : null;
    }, { what: "host 3 drifting" });
    expect(h.drift).toMatchObject({ missing: [], unexpected: [{ patchId: patch.id, moduleName: MODULE() }] });
    const list = await expectJson<HostList>(await c.api("/api/v1/hosts?drifting=true"));
    expect(list.items.map((i) => i.id)).toEqual([idOf(3)]);
  });

  it("a host that boots into a release a reload-off group selects is told at once (group membership by kernel release)", async () => {
    const NEW = "6.1.0-99-amd64";
    await expectJson<Group>(await post("/api/v1/groups", { name: "new kernel without reload", selector: { kernelReleases: [NEW] }, reloadAtBoot: false }), 201);
    expect(await hostOf(3).kept.reloadEnabled()).toBe(true);
    await hostOf(3).reboot({ kernelRelease: NEW });
    await eventually(async () => ((await hostOf(3).kept.reloadEnabled()) ? null : true), { what: "host 3's agent told not to reload on its new release" });
    expect((await host(idOf(3))).kernelRelease).toBe(NEW);
  });
});
