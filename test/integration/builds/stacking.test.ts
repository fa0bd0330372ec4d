// Two patches of the same function, end to end on a real console with simulated hosts running the
// real Agent: the later one is built on top of the earlier (its build waits for the earlier's and
// says so), is never loaded where the earlier is not live (the plan skips such hosts; a host the
// plan could not judge, its build not done yet, is refused by the agent itself), and the earlier
// one is not taken out from under it. The real-kernel counterpart is in test/e2e/real-kernels.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Fleet } from "@/agent/sim/fleet";
import type { Build, Group, HostDetail, PatchDetail, RolloutDetail, RolloutSummary } from "@/lib/api/schemas";
import { livepatchModuleName } from "@/lib/livepatch/module-name";
import { eventually, expectJson, startSimulatedFleet, startTestConsole, type TestConsole } from "../../helpers/console";
import { diffFixture } from "../../helpers/fixtures";

let c: TestConsole;
let fleet: Fleet;
let group: Group;
const HOSTS = 3;

const post = (p: string, body: unknown = {}) => c.api(p, { method: "POST", json: body, headers: { origin: c.url } });
const stage = async (title: string, diff: string) => expectJson<PatchDetail>(await post("/api/v1/patches", { title, severity: "high", cves: [], diff }));
const builds = (patchId: string) =>
  eventually(async () => {
    const { items } = await expectJson<{ items: Build[] }>(await c.api(`/api/v1/patches/${patchId}/builds`));
    return items.length > 0 && items.every((b) => b.status === "succeeded" || b.status === "failed") ? items : null;
  }, { what: `builds of ${patchId}`, timeoutMs: 60_000, intervalMs: 100 });
const rollOut = async (patchId: string) => expectJson<RolloutSummary>(await post("/api/v1/rollouts", { patchId, groupId: group.id, strategy: { canary: 0, waves: 1, failureBudget: HOSTS } }), 201);
const finished = (id: string) =>
  eventually(async () => {
    const r = await expectJson<RolloutDetail>(await c.api(`/api/v1/rollouts/${id}`));
    return ["completed", "aborted", "paused"].includes(r.status) ? r : null;
  }, { what: `rollout ${id} finished`, timeoutMs: 60_000, intervalMs: 100 });
/** Per host, which of this test's patches are live (simulated hosts may run others from their profile). */
const liveOn = async () => {
  const ours = new Set([first, second].filter(Boolean).map((p) => livepatchModuleName(p.id)));
  return Promise.all(fleet.agents.map(async (a) => (await a.kernel.listLivepatches()).filter((l) => l.enabled && ours.has(l.name)).map((l) => l.name)));
};

beforeAll(async () => {
  // Builds slow enough that a rollout started right after staging finds its builds not done.
  c = await startTestConsole({ env: { SPLICER_SIMULATE_BUILD_MS: "1200" } });
  fleet = await startSimulatedFleet(c, { agents: HOSTS, seed: "stacking" });
  group = await expectJson<Group>(await post("/api/v1/groups", { name: "all", selector: { all: true } }), 201);
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  await c?.stop();
});

let first: PatchDetail;
let second: PatchDetail;

describe("patches of the same function stack", () => {
  let firstRollout: RolloutDetail;
  let secondRollout: RolloutDetail;

  it("the later patch's build waits for the earlier one's, applies it first, and says it was built on it; a patch of another file stays independent", async () => {
    first = await stage("cmdline: livepatched marker", diffFixture("function-only-cmdline.diff"));
    second = await stage("cmdline: another marker", diffFixture("cmdline-marker.diff"));
    const other = await stage("igmp: bounds check", diffFixture("bounds-check-ipv4.diff"));
    // Before any build of the second is done: the plan cannot judge it, the agents will (below).
    const early = await rollOut(second.id);

    const a = new Map((await builds(first.id)).map((b) => [b.kernelRelease, b]));
    const b = await builds(second.id);
    expect(b.length).toBeGreaterThan(0);
    for (const x of b) {
      expect(x.status, x.error ?? "").toBe("succeeded");
      expect(x.report?.includes).toEqual([{ patchId: first.id, title: first.title, functions: ["cmdline_proc_show"] }]);
      // The queue held it until the earlier build of its release had finished.
      expect(Date.parse(x.startedAt!)).toBeGreaterThanOrEqual(Date.parse(a.get(x.kernelRelease)!.finishedAt!));
      const log = (await expectJson<{ log: string }>(await c.api(`/api/v1/builds/${x.id}/log`))).log;
      expect(log).toContain(`built on top of "${first.title}": both change cmdline_proc_show`);
    }
    for (const x of await builds(other.id)) expect(x.report?.includes).toEqual([]);

    // The agents refused it: the first patch is not live on them.
    const refused = await finished(early.id);
    expect(refused.counts).toEqual({ failed: HOSTS });
    for (const h of refused.hosts) expect(h.error).toMatch(new RegExp(`built on top of ${livepatchModuleName(first.id)}, which is not live here`));
    expect((await liveOn()).flat()).toEqual([]);
  }, 120_000);

  it("now the plan skips hosts without the earlier patch, naming it; with it live the later one loads over it", async () => {
    const preview = await expectJson<{ toPatch: number; skipped: { reason: string; hosts: number }[] }>(await post("/api/v1/rollouts/preview", { patchId: second.id, groupId: group.id }));
    expect(preview.toPatch).toBe(0);
    expect(preview.skipped).toEqual([{ reason: expect.stringMatching(/^needs patch "cmdline: livepatched marker" \(livepatch_\w+\) live first: this patch was built on top of it \(both change cmdline_proc_show\)/), hosts: HOSTS }]);
    expect((await post("/api/v1/rollouts", { patchId: second.id, groupId: group.id })).status).toBe(409);

    firstRollout = await finished((await rollOut(first.id)).id);
    expect(firstRollout.counts).toEqual({ succeeded: HOSTS });
    secondRollout = await finished((await rollOut(second.id)).id);
    expect(secondRollout.counts).toEqual({ succeeded: HOSTS });
    for (const live of await liveOn()) expect(live.sort()).toEqual([livepatchModuleName(first.id), livepatchModuleName(second.id)].sort());
  }, 120_000);

  it("the earlier patch is not rolled back from under the later one; once the later one is out, it is", async () => {
    const blocked = await post(`/api/v1/rollouts/${firstRollout.id}/rollback`, {});
    expect(blocked.status).toBe(409);
    expect(((await blocked.json()) as { error: { message: string } }).error.message).toMatch(/patch "cmdline: another marker" .*built on top of this patch, is live there; roll it back first/);
    expect((await liveOn()).every((l) => l.length === 2)).toBe(true);

    const undoSecond = await expectJson<RolloutSummary>(await post(`/api/v1/rollouts/${secondRollout.id}/rollback`, {}), 201);
    expect((await finished(undoSecond.id)).counts).toEqual({ reverted: HOSTS });
    const undoFirst = await expectJson<RolloutSummary>(await post(`/api/v1/rollouts/${firstRollout.id}/rollback`, {}), 201);
    expect((await finished(undoFirst.id)).counts).toEqual({ reverted: HOSTS });
    expect((await liveOn()).flat()).toEqual([]);
  }, 120_000);

  it("a bad first fix is withdrawn once no host runs it: the later fix is built again without it and rolls out alone; the withdrawn one is not rolled out", async () => {
    const again = await finished((await rollOut(first.id)).id);
    expect(again.counts).toEqual({ succeeded: HOSTS });
    const live = await post(`/api/v1/patches/${first.id}/withdraw`, { reason: "breaks /proc/cmdline parsers" });
    expect(live.status).toBe(409);
    expect(((await live.json()) as { error: { message: string } }).error.message).toMatch(/is live on 3 hosts .*roll it back first/);
    expect((await post(`/api/v1/patches/${first.id}/withdraw`, { reason: "" })).status).toBe(400);
    const back = await expectJson<RolloutSummary>(await post(`/api/v1/rollouts/${again.id}/rollback`, {}), 201);
    expect((await finished(back.id)).counts).toEqual({ reverted: HOSTS });

    const withdrawn = await expectJson<PatchDetail>(await post(`/api/v1/patches/${first.id}/withdraw`, { reason: "breaks /proc/cmdline parsers" }));
    expect(withdrawn.withdrawn).toMatchObject({ by: "admin", reason: "breaks /proc/cmdline parsers" });
    expect((await post(`/api/v1/patches/${first.id}/withdraw`, { reason: "again" })).status).toBe(409);
    const refused = await post("/api/v1/rollouts", { patchId: first.id, groupId: group.id });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("withdrawn");
    // Hosts still lack its fix, and no live patch of it will come: a reboot (or another patch) fixes it.
    const h = await expectJson<HostDetail>(await c.api(`/api/v1/hosts/${fleet.agents[0]!.agent.hostId}`));
    expect(h.effective.missing.find((m) => m.patchId === first.id)).toMatchObject({ remedy: "reboot", why: expect.stringMatching(/^the patch was withdrawn \(breaks \/proc\/cmdline parsers\)/) });

    // The second patch's builds were queued again and now stand alone.
    const rebuilt = await eventually(async () => {
      const { items } = await expectJson<{ items: Build[] }>(await c.api(`/api/v1/patches/${second.id}/builds`));
      return items.every((b) => b.status === "succeeded" && b.report?.includes.length === 0) ? items : null;
    }, { what: "the second patch rebuilt without the first", timeoutMs: 60_000, intervalMs: 200 });
    for (const b of rebuilt) expect((await expectJson<{ log: string }>(await c.api(`/api/v1/builds/${b.id}/log`))).log).toMatch(/^queued again: the earlier patches of its files built for its release changed/);
    const alone = await finished((await rollOut(second.id)).id);
    expect(alone.counts).toEqual({ succeeded: HOSTS });
    for (const l of await liveOn()) expect(l).toEqual([livepatchModuleName(second.id)]);
    const audit = await expectJson<{ items: { action: string; details: { rebuilt?: unknown[] } }[] }>(await c.api("/api/v1/audit?action=patch.withdrawn"));
    expect(audit.items[0]).toMatchObject({ action: "patch.withdrawn", details: { rebuilt: expect.arrayContaining([expect.objectContaining({ patchId: second.id })]) } });
  }, 120_000);

  it("an earlier patch built for a release only after a later one was: the later build, unused there, is built again on top of it", async () => {
    const releases = [...new Set(fleet.agents.map((a) => a.profile.kernelRelease))].sort();
    const [r1, r2] = releases as [string, string];
    expect(r2, "the simulated fleet runs two releases at least").toBeDefined();
    const early = await expectJson<PatchDetail>(await post("/api/v1/patches", { title: "printk: ratelimit, first fix", severity: "high", cves: [], diff: diffFixture("global-added-and-static-local.diff"), kernelReleases: [r1] }));
    const later = await expectJson<PatchDetail>(await post("/api/v1/patches", { title: "printk: ratelimit, second fix", severity: "high", cves: [], diff: diffFixture("global-added-and-static-local.diff").replace('pr_info("%s\\n", msg);', 'pr_info("acme: %s\\n", msg);'), kernelReleases: [r1, r2] }));
    const byRelease = async (id: string) => new Map((await builds(id)).map((b) => [b.kernelRelease, b]));
    expect((await byRelease(later.id)).get(r2)?.report?.includes).toEqual([]);
    expect((await byRelease(later.id)).get(r1)?.report?.includes).toEqual([expect.objectContaining({ patchId: early.id, functions: ["acme_report"] })]);
    // Now the earlier one is wanted on r2 too.
    expect((await post(`/api/v1/patches/${early.id}/builds`, { kernelReleases: [r2] })).status).toBe(200);
    const restacked = await eventually(async () => {
      const b = (await byRelease(later.id)).get(r2);
      return b?.report?.includes.some((i) => i.patchId === early.id) ? b : null;
    }, { what: "the later patch's r2 build rebuilt on top of the earlier one", timeoutMs: 60_000, intervalMs: 200 });
    expect(restacked.report?.includes).toEqual([expect.objectContaining({ patchId: early.id, functions: ["acme_report"] })]);
  }, 120_000);
});
