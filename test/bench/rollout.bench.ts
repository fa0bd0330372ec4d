// npm run bench:rollout -- [--agents 5000] [--in-flight 500]
//
// Rolls one patch out to N simulated hosts and times it. A console (its own process, embedded
// PostgreSQL) and N simulated agents (the fleet simulator, another process at a lower priority,
// same machine) as in bench:fleet; one group of every host; a patch staged and built for every
// kernel release the fleet runs (not timed: builds are bench:builds). Then, timed: one
// POST /api/v1/rollouts with the default canary (1) and waves (25%), --in-flight hosts at once,
// no waits, apply time 0, until the rollout is completed. Reported: wall time, overhead per
// host (wall time / hosts), each host's dispatch → result latency, the console's peak RSS.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { ROOT, benchDatabase, cpuSec, exited, log, machine, metric, pct, rssMiB, sleep, startBenchConsole, track } from "./lib";
import { diffFixture } from "../helpers/fixtures";

const { values } = parseArgs({
  options: {
    agents: { type: "string", default: "5000" },
    "in-flight": { type: "string", default: "500" },
    "sim-nice": { type: "string", default: "10" },
    out: { type: "string" },
  },
});
const N = Number(values.agents);
const IN_FLIGHT = Number(values["in-flight"]);

const db = await benchDatabase("rollout");
const c = await startBenchConsole({ dbUrl: db.url, dataDir: db.dataDir, env: { SPLICER_SIMULATE_BUILD_MS: "100" } });
const { token } = await c.json<{ token: string }>("/api/v1/enrollment-tokens", { method: "POST", body: JSON.stringify({ maxUses: N, expiresInHours: 2, note: "bench" }) });

const sim = track(
  spawn("nice", ["-n", String(values["sim-nice"]), process.execPath, "--import", "tsx", "scripts/fleet-sim.ts", "--server", c.url, "--enroll-token", token, "--agents", String(N), "--apply-ms", "0", "--state-dir", path.join(db.dataDir, "sim")], {
    cwd: ROOT,
    stdio: ["ignore", "inherit", "pipe"],
  }),
);
let lastProgress = "";
sim.stderr!.on("data", (d: Buffer) => (lastProgress = d.toString().trim().split("\n").pop() ?? lastProgress));

let peakRss = 0;
const t0 = performance.now();
for (;;) {
  peakRss = Math.max(peakRss, rssMiB(c.proc.pid!));
  const s = await c.json<{ online: number; kernels: { kernelRelease: string; count: number }[] }>("/api/v1/fleet/summary");
  if (s.online >= N && s.kernels.reduce((a, k) => a + k.count, 0) >= N) break;
  if (performance.now() - t0 > 300_000) throw new Error(`fleet not ready after 300 s (${lastProgress})`);
  await sleep(500);
}
log(`all ${N} connected with their inventory in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const group = await c.json<{ id: string; memberCount: number }>("/api/v1/groups", { method: "POST", body: JSON.stringify({ name: "everything", selector: { all: true } }) });
const diff = diffFixture("function-only-cmdline.diff");
const patch = await c.json<{ id: string; builds: unknown[] }>("/api/v1/patches", { method: "POST", body: JSON.stringify({ title: "cmdline fix", severity: "high", diff }) });
for (;;) {
  const b = await c.json<{ items: { status: string }[] }>(`/api/v1/patches/${patch.id}/builds`);
  if (b.items.length > 0 && b.items.every((x) => x.status === "succeeded")) break;
  await sleep(250);
}
log(`${group.memberCount} hosts in the group; builds for ${patch.builds.length} kernel releases done`);

/** Database operations the console issued, by Prisma model and operation (from /metrics). */
async function dbOps(): Promise<Map<string, number>> {
  const text = await (await fetch(`${c.url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^splicer_db_query_seconds_count\{model="([^"]*)",operation="([^"]*)"\} (\d+)/gm)) out.set(`${m[1]}.${m[2]}`, Number(m[3]));
  return out;
}
const ops0 = await dbOps();
const cpu0 = { console: cpuSec(c.proc.pid!), sim: cpuSec(sim.pid!) };
const r0 = performance.now();
const rollout = await c.json<{ id: string; hostCount: number; waveCount: number }>("/api/v1/rollouts", {
  method: "POST",
  body: JSON.stringify({ patchId: patch.id, groupId: group.id, strategy: { maxInFlight: IN_FLIGHT, hostTimeoutSec: 600 } }),
});
const startMs = performance.now() - r0;
let status = "";
let counts: Record<string, number> = {};
for (;;) {
  peakRss = Math.max(peakRss, rssMiB(c.proc.pid!));
  const r = await c.json<{ status: string; counts: Record<string, number> }>(`/api/v1/rollouts/${rollout.id}?hosts=none`);
  ({ status, counts } = r);
  if (!["running", "aborting"].includes(status)) break;
  if (performance.now() - r0 > 600_000) throw new Error(`rollout not done after 600 s: ${JSON.stringify(counts)}`);
  await sleep(100);
}
const wallSec = (performance.now() - r0) / 1000;
log(`rollout ${status} in ${wallSec.toFixed(1)} s: ${JSON.stringify(counts)}`);

const ops1 = await dbOps();
const dbOpsPerHost = Object.fromEntries(
  [...ops1].map(([k, v]) => [k, Number(((v - (ops0.get(k) ?? 0)) / N).toFixed(2))] as const).filter(([, v]) => v >= 0.01).sort((a, b) => b[1] - a[1]),
);
const client = new pg.Client({ connectionString: db.url });
await client.connect();
const lat = (
  await client.query<{ ms: number }>(`select extract(epoch from ("finishedAt" - "dispatchedAt")) * 1000 as ms from "RolloutHost" where "rolloutId" = $1 and "dispatchedAt" is not null`, [rollout.id])
).rows.map((r) => Number(r.ms));
await client.end();

const result = {
  date: new Date().toISOString(),
  machine: machine(),
  hosts: rollout.hostCount,
  waves: rollout.waveCount,
  maxInFlight: IN_FLIGHT,
  status,
  counts,
  startRequestMs: Math.round(startMs),
  wallSec: Number(wallSec.toFixed(1)),
  overheadPerHostMs: Number(((wallSec * 1000) / rollout.hostCount).toFixed(2)),
  hostDispatchToResultMs: { p50: Math.round(pct(lat, 50)), p95: Math.round(pct(lat, 95)), max: Math.round(Math.max(...lat)) },
  cpuSecDuringRollout: { console: Number((cpuSec(c.proc.pid!) - cpu0.console).toFixed(1)), simulator: Number((cpuSec(sim.pid!) - cpu0.sim).toFixed(1)) },
  jobsSent: await metric(c.url, "splicer_jobs_sent_total"),
  dbOpsPerHost,
  consolePeakRssMiB: Math.round(peakRss),
};
console.log(JSON.stringify(result, null, 2));
const targets = [
  [`rollout to ${N} hosts completed, every host succeeded`, status === "completed" && counts.succeeded === N],
  ["under 30 s", wallSec < 30],
] as const;
for (const [name, ok] of targets) console.log(`${ok ? "PASS" : "FAIL"}  ${name}`);
if (values.out) fs.writeFileSync(values.out, JSON.stringify(result, null, 2) + "\n");

sim.kill("SIGTERM");
c.proc.kill("SIGTERM");
await Promise.all([sim, c.proc].map(exited));
await db.stop();
process.exit(targets.every(([, ok]) => ok) ? 0 : 1);
