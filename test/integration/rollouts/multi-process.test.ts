// Two console processes on one database, each holding half of the fleet's agent connections:
// a rollout started through one is advanced by whichever holds its row lock, each host's job is
// sent by the process its agent is connected to, and every host is patched exactly once.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Fleet } from "@/agent/sim/fleet";
import type { Group, PatchDetail, RolloutDetail, RolloutSummary } from "@/lib/api/schemas";
import { eventually, startSimulatedFleet, startTestConsole, type TestConsole } from "../../helpers/console";
import { diffFixture } from "../../helpers/fixtures";

let a: TestConsole;
let b: TestConsole;
let fleets: Fleet[] = [];

beforeAll(async () => {
  a = await startTestConsole({ env: { SPLICER_SIMULATE_BUILD_MS: "100" } });
  b = await startTestConsole({ sharing: a, env: { SPLICER_SIMULATE_BUILD_MS: "100" } });
  fleets = [await startSimulatedFleet(a, { agents: 5, seed: "multi-a" }), await startSimulatedFleet(b, { agents: 5, seed: "multi-b" })];
  for (const f of fleets) f.setBehavior({ applyMs: 100 });
});
afterAll(async () => {
  for (const f of fleets) await f.stop();
  await b?.stop();
  await a?.stop();
});

it("a rollout across hosts connected to two console processes patches each host once, advanced by one process at a time", async () => {
  const post = async <T,>(c: TestConsole, p: string, body: unknown, status = 200) => {
    const r = await c.api(p, { method: "POST", json: body, headers: { origin: c.url } });
    const text = await r.text();
    expect(r.status, text).toBe(status);
    return JSON.parse(text) as T;
  };
  const group = await post<Group>(a, "/api/v1/groups", { name: "both halves", selector: { all: true } }, 201);
  expect(group.memberCount).toBe(10);
  const diff = diffFixture("function-only-cmdline.diff");
  const patch = await post<PatchDetail>(a, "/api/v1/patches", { title: "cmdline", severity: "high", diff });
  const r = await post<RolloutSummary>(b, "/api/v1/rollouts", { patchId: patch.id, groupId: group.id, strategy: { canary: 1, waves: "50%", maxInFlight: 4 } }, 201);
  const done = await eventually(async () => {
    const d = (await (await a.api(`/api/v1/rollouts/${r.id}`)).json()) as RolloutDetail;
    return d.status === "completed" ? d : null;
  }, { what: "rollout completed", timeoutMs: 60_000 });
  expect(done.counts).toEqual({ succeeded: 10 });
  for (const f of fleets) {
    for (const s of f.agents) {
      expect(s.kernel.operations.filter((o) => o.kind === "apply" && o.outcome === "changed")).toHaveLength(1);
    }
  }
  // Completed once: one process made the final step.
  const completed = await a.db.query(`select seq from "AuditEvent" where action = 'rollout.completed' and "targetId" = $1`, [r.id]);
  expect(completed).toHaveLength(1);
});
