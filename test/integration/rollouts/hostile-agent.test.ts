// Issue 9 item 2: one host must not be able to erase every host's rollout results. A 10-host
// rollout where one enrolled host, speaking the protocol with its real credential, sends job
// updates carrying text Postgres cannot store (a NUL, unpaired surrogates) every ~105 ms, i.e. in
// nearly every 100 ms batch of job updates: the nine honest agents' results are all stored, the
// rollout ends with them succeeded, and the hostile agent is told which field was refused.
import crypto from "node:crypto";
import type { Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Fleet } from "@/agent/sim/fleet";
import type { Ack, Job, JobAck } from "@/agent/protocol";
import type { Group, Host, PatchDetail, RolloutDetail, RolloutSummary } from "@/lib/api/schemas";
import { eventually, getJson, startSimulatedFleet, startTestConsole, type TestConsole } from "../../helpers/console";
import { diffFixture } from "../../helpers/fixtures";
import { agentAuth, agentSockets } from "../../helpers/sockets";

const HONEST = 9;
const POISON = ["\u0000", "lone high \uD800 surrogate", "\uDC00 lone low surrogate", "nul in the middle \u0000 of it"];

let c: TestConsole;
const sockets = agentSockets(() => c.url);
let fleet: Fleet;
let hostile: { hostId: string; socket: Socket; jobs: string[]; refusals: { event: string; error: string }[]; acks: Ack[]; sent: number; stop(): void };

async function startHostile(kernelRelease: string) {
  const cred = await c.enroll("hostile-01", `hostile-${crypto.randomUUID()}`);
  // Refusals close its connection now and then: come straight back, as an attacker would.
  const socket = sockets.open(agentAuth(cred), { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 200 });
  const h = { hostId: cred.hostId, socket, jobs: [] as string[], refusals: [] as { event: string; error: string }[], acks: [] as Ack[], sent: 0, stop: () => {} };
  socket.on("connect", () => {
    socket.emit("inventory", {
      hostname: "hostile-01", machineId: "hostile-machine", bootId: "b", kernelRelease, kernelVersion: "#1 SMP", distro: { id: "debian", name: "Debian GNU/Linux", version: "12" },
      arch: "x86_64", uptimeSec: 1, cpuCount: 2, memoryBytes: 1 << 30, livepatches: [], agentVersion: "hostile",
    });
  });
  socket.on("protocol_error", (e: { event: string; error: string }) => h.refusals.push(e));
  // The console drops it after repeated refusals; socket.io does not reconnect after that by itself.
  let stopped = false;
  socket.on("disconnect", (reason) => {
    if (reason === "io server disconnect" && !stopped) setTimeout(() => !stopped && socket.connect(), 50);
  });
  // It refuses its job with a reason the console records as its result (once a NUL and a lone
  // surrogate in it failed that batch too), and goes on sending poisoned updates for it.
  socket.on("job", (job: Job, ack: (a: JobAck) => void) => {
    if (!h.jobs.includes(job.jobId)) h.jobs.push(job.jobId);
    ack({ ok: false, error: "no\u0000thanks \uD800" });
  });
  const timer = setInterval(() => {
    if (!socket.connected) return;
    const n = h.sent++;
    const poison = POISON[n % POISON.length];
    // Its own job once it has one (before that, any id: the batch statement fails all the same).
    const jobId = h.jobs[0] ?? crypto.randomUUID();
    const update = n % 2 === 0 ? { jobId, phase: "failed", error: poison, log: [] } : { jobId, phase: "verifying", log: ["fine", poison] };
    socket.timeout(5000).emitWithAck("job_update", update).then((a: Ack) => h.acks.push(a), () => {});
  }, 105);
  h.stop = () => {
    stopped = true;
    clearInterval(timer);
    socket.close();
  };
  await eventually(async () => {
    const rows = await c.db.query<{ kernelRelease: string }>(`select "kernelRelease" from "Host" where id = $1`, [cred.hostId]);
    return rows[0]?.kernelRelease === kernelRelease;
  }, { what: "the hostile host's inventory" });
  return h;
}

const post = (p: string, body: unknown) => c.api(p, { method: "POST", json: body, headers: { origin: c.url } });

beforeAll(async () => {
  c = await startTestConsole({ env: { SPLICER_SIMULATE_BUILD_MS: "200" } });
  fleet = await startSimulatedFleet(c, { agents: HONEST, seed: "hostile", applyMs: 300 });
  const hosts = await getJson<{ items: Host[] }>(c, "/api/v1/hosts?limit=50");
  hostile = await startHostile(hosts.items[0].kernelRelease);
});

afterAll(async () => {
  hostile?.stop();
  await fleet?.stop();
  await c?.stop();
});

describe("a hostile agent in a rollout", () => {
  it("cannot erase the honest hosts' results: they are stored and the rollout ends with them succeeded", async () => {
    const diff = diffFixture("function-only-cmdline.diff");
    const pr = await post("/api/v1/patches", { title: "fix cmdline", severity: "high", cves: [], diff });
    expect(pr.status, await pr.clone().text()).toBe(200);
    const patch = (await pr.json()) as PatchDetail;
    const gr = await post("/api/v1/groups", { name: "all ten", selector: { all: true } });
    expect(gr.status).toBe(201);
    const group = (await gr.json()) as Group;
    expect(group.memberCount).toBe(HONEST + 1);

    // One wave of all ten; the hostile host's failure is within budget.
    const sentBefore = hostile.sent;
    const t0 = Date.now();
    const rr = await post("/api/v1/rollouts", { patchId: patch.id, groupId: group.id, strategy: { canary: 0, waves: "100%", maxInFlight: 10, failureBudget: 1, hostTimeoutSec: 10 } });
    expect(rr.status, await rr.clone().text()).toBe(201);
    const started = (await rr.json()) as RolloutSummary;
    expect(started.hostCount, JSON.stringify(started)).toBe(HONEST + 1);

    const done = await eventually(async () => {
      const r = await getJson<RolloutDetail>(c, `/api/v1/rollouts/${started.id}`);
      return r.status === "completed" || r.status === "paused" ? r : null;
    }, { what: "the rollout to finish", timeoutMs: 90_000, intervalMs: 250 });
    const elapsedMs = Date.now() - t0;

    const honest = done.hosts.filter((h) => h.hostId !== hostile.hostId);
    expect(honest.map((h) => `${h.hostname}: ${h.state}${h.error ? ` (${h.error})` : ""}`)).toEqual(honest.map((h) => `${h.hostname}: succeeded`));
    expect(done.status).toBe("completed");
    // Its refusal is its result, made storable.
    expect(done.hosts.find((h) => h.hostId === hostile.hostId)).toMatchObject({ state: "failed", error: "the agent refused the job: no\uFFFDthanks \uFFFD" });
    // And the module is live on every honest host's kernel.
    for (const a of fleet.agents) expect((await a.kernel.listLivepatches()).map((l) => l.name)).toContain(done.patch.moduleName);

    // The attack really ran through the rollout: the hostile host got its job, and sent a poisoned
    // update in most of the 100 ms batches while the honest hosts reported (a count relative to
    // how long the rollout took: a faster rollout leaves fewer batches to poison).
    expect(hostile.jobs.length).toBe(1);
    const sent = hostile.sent - sentBefore;
    expect(sent, `${sent} poisoned updates in ${elapsedMs} ms`).toBeGreaterThanOrEqual(Math.max(5, Math.floor((0.5 * elapsedMs) / 105)));
  });

  it("refuses every poisoned update with a protocol_error naming the field", async () => {
    const refusals = hostile.refusals.filter((e) => e.event === "job_update");
    expect(refusals.length).toBeGreaterThan(10);
    expect(refusals.some((e) => /NUL character.*\n\s*→ at error/s.test(e.error))).toBe(true);
    expect(refusals.some((e) => /unpaired UTF-16 surrogate.*\n\s*→ at error/s.test(e.error))).toBe(true);
    expect(refusals.some((e) => /→ at log\[1\]/.test(e.error))).toBe(true);
    expect(hostile.acks.length).toBeGreaterThan(0);
    expect(hostile.acks.every((a) => !a.ok)).toBe(true);
    // Nothing of it was stored, and the console is healthy.
    const rows = await c.db.query<{ n: number }>(`select count(*)::int as n from "RolloutHost" where log like '%fine%'`);
    expect(rows[0].n).toBe(0);
    expect((await fetch(`${c.url}/api/health`)).status).toBe(200);
  });
});
