// npm run bench:fleet -- --agents 5000 [--extra-hosts 5000] [--heartbeat-sec 5] [--samples 300]
//
// Starts a console (its own process, embedded PostgreSQL) and N simulated agents (the fleet
// simulator, another process; both share this machine's cores), then measures, in order:
//  1. time until all N are enrolled and connected (fresh state dir: every agent enrolls),
//  2. p50/p95 latency of the hosts list and fleet summary APIs at the default heartbeat (30 s),
//  3. heartbeats/s ingested with the heartbeat interval lowered to --heartbeat-sec,
//  4. time until all N are connected again after the console is killed and restarted,
// and the console's peak RSS throughout. --extra-hosts adds offline host rows to the table.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { ROOT, benchDatabase, cpuSec, exited, log, machine, metric, pct, rssMiB, sleep, spawnConsole, startBenchConsole, track, waitReady } from "./lib";

const { values } = parseArgs({
  options: {
    agents: { type: "string", default: "5000" },
    "extra-hosts": { type: "string", default: "0" },
    "heartbeat-sec": { type: "string", default: "5" },
    samples: { type: "string", default: "300" },
    "heartbeat-window-sec": { type: "string", default: "20" },
    out: { type: "string" },
    "sim-nice": { type: "string", default: "10" },
    /** Skip phase 4 (e.g. to profile the console: BENCH_CONSOLE_NODE_ARGS=--cpu-prof). */
    "no-restart": { type: "boolean", default: false },
  },
});
const N = Number(values.agents);
const EXTRA = Number(values["extra-hosts"]);
const HEARTBEAT = Number(values["heartbeat-sec"]);
const SAMPLES = Number(values.samples);
const WINDOW = Number(values["heartbeat-window-sec"]);

const db = await benchDatabase("fleet");
const dataDir = db.dataDir;
const startConsole = (port: string) => spawnConsole({ dbUrl: db.url, dataDir, port });
const first = await startBenchConsole({ dbUrl: db.url, dataDir });
let consoleProc = first.proc;
const { url, api } = first;

const { token } = (await (await api("/api/v1/enrollment-tokens", { method: "POST", body: JSON.stringify({ maxUses: N, expiresInHours: 2, note: "bench" }) })).json()) as { token: string };

if (EXTRA > 0) {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  await c.query(
    `insert into "Host" (id, hostname, "machineId", "credentialHash", "kernelRelease", "distroId", "distroName", "distroVersion", online, "lastSeenAt", labels)
     select gen_random_uuid(), 'extra-' || lpad(i::text, 6, '0') || '.bench', 'extra-' || i, md5(i::text) || md5((i * 7)::text),
            (array['6.1.0-50-amd64','6.1.0-56-amd64','5.15.0-119-generic','6.8.0-45-generic'])[1 + i % 4],
            'debian', 'Debian GNU/Linux', '12', false, now() - interval '2 hours', jsonb_build_object('env', case when i % 2 = 0 then 'prod' else 'staging' end)
     from generate_series(1, $1::int) i`,
    [EXTRA],
  );
  await c.query(`analyze "Host"`);
  await c.end();
  log(`inserted ${EXTRA} extra offline host rows`);
}

const t0 = performance.now();
// The simulator stands in for 5,000 other machines; at a lower priority it takes the CPU the
// console and PostgreSQL leave, instead of competing with them for this machine's two cores.
const sim = track(spawn("nice", ["-n", String(values["sim-nice"]), process.execPath, "--import", "tsx", "scripts/fleet-sim.ts", "--server", url, "--enroll-token", token, "--agents", String(N), "--state-dir", path.join(dataDir, "sim")], {
  cwd: ROOT,
  stdio: ["ignore", "inherit", "pipe"],
}));
let lastProgress = "";
sim.stderr!.on("data", (d: Buffer) => (lastProgress = d.toString().trim().split("\n").pop() ?? lastProgress));

let connectedAt = 0;
let peakRss = 0;
for (;;) {
  peakRss = Math.max(peakRss, rssMiB(consoleProc.pid!));
  const online = await metric(url, "splicer_agents_connected");
  if (online >= N) {
    connectedAt = performance.now();
    break;
  }
  if (performance.now() - t0 > 300_000) throw new Error(`only ${online}/${N} connected after 300 s (${lastProgress})`);
  await sleep(250);
}
const connectSec = (connectedAt - t0) / 1000;
// Who was busy while the fleet connected: the console, the simulator, or neither (waiting).
const connectCpu = { consoleSec: Number(cpuSec(consoleProc.pid!).toFixed(1)), simulatorSec: Number(cpuSec(sim.pid!).toFixed(1)) };
log(`all ${N} connected in ${connectSec.toFixed(1)} s`);
// Let enrollment inventories land and the fleet settle into heartbeats.
await sleep(Math.max(3000, HEARTBEAT * 1000));
const dbOnline = ((await (await api("/api/v1/fleet/summary")).json()) as { online: number }).online;

async function timeRequests(paths: () => string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await api(paths());
    await r.arrayBuffer();
    if (!r.ok) throw new Error(`${r.status} for ${paths()}`);
    out.push(performance.now() - t);
  }
  return out;
}
const total = N + EXTRA;
const listVariants = [
  () => `/api/v1/hosts?limit=50&offset=${Math.floor(Math.random() * Math.max(1, total - 50))}`,
  () => `/api/v1/hosts?limit=50&sort=lastSeenAt&order=desc`,
  () => `/api/v1/hosts?limit=50&q=prod`,
  () => `/api/v1/hosts?limit=50&kernel=6.1.0-50-amd64&online=true`,
  () => `/api/v1/hosts?limit=50&label=env=prod&sort=kernelRelease`,
];
let k = 0;
await timeRequests(() => "/api/v1/hosts?limit=50", 20); // warm-up
const hostsLat = await timeRequests(() => listVariants[k++ % listVariants.length](), SAMPLES);
const summaryLat = await timeRequests(() => "/api/v1/fleet/summary", SAMPLES);
peakRss = Math.max(peakRss, rssMiB(consoleProc.pid!));

await api("/api/v1/settings", { method: "PATCH", body: JSON.stringify({ heartbeatIntervalSec: HEARTBEAT }) });
// Agents adopt the new interval with their next heartbeat; let one full old interval pass.
await sleep(32_000);
const hb0 = await metric(url, "splicer_heartbeats_ingested_total");
const w0 = performance.now();
await sleep(WINDOW * 1000);
const hb1 = await metric(url, "splicer_heartbeats_ingested_total");
const heartbeatsPerSec = (hb1 - hb0) / ((performance.now() - w0) / 1000);
peakRss = Math.max(peakRss, rssMiB(consoleProc.pid!));


// The stampede case: kill the console (no goodbyes) and start it again on the same port.
let reconnectSec = NaN;
if (!values["no-restart"]) {
  consoleProc.kill("SIGKILL");
  await new Promise((r) => consoleProc.once("exit", r));
  const port = new URL(url).port;
  const t1 = performance.now();
  consoleProc = startConsole(port);
  await waitReady(consoleProc);
  for (;;) {
    peakRss = Math.max(peakRss, rssMiB(consoleProc.pid!));
    if ((await metric(url, "splicer_agents_connected").catch(() => 0)) >= N) {
      reconnectSec = (performance.now() - t1) / 1000;
      break;
    }
    if (performance.now() - t1 > 300_000) break;
    await sleep(250);
  }
}
log(`all ${N} reconnected ${reconnectSec.toFixed(1)} s after the console was restarted`);

const result = {
  date: new Date().toISOString(),
  machine: machine(),
  agents: N,
  hostRows: total,
  latencyHeartbeatIntervalSec: 30,
  ingestHeartbeatIntervalSec: HEARTBEAT,
  connectAllSec: Number(connectSec.toFixed(1)),
  connectCpu,
  reconnectAfterRestartSec: Number(reconnectSec.toFixed(1)),
  onlineInDatabase: dbOnline,
  consoleRssMiB: Math.round(rssMiB(consoleProc.pid!)),
  consolePeakRssMiB: Math.round(peakRss),
  heartbeatsPerSec: Math.round(heartbeatsPerSec),
  heartbeatsExpectedPerSec: Math.round(N / HEARTBEAT),
  hostsListMs: { p50: Number(pct(hostsLat, 50).toFixed(1)), p95: Number(pct(hostsLat, 95).toFixed(1)), samples: SAMPLES },
  summaryMs: { p50: Number(pct(summaryLat, 50).toFixed(1)), p95: Number(pct(summaryLat, 95).toFixed(1)), samples: SAMPLES },
};
console.log(JSON.stringify(result, null, 2));
const targets = [
  [`all ${N} connected < 60 s`, connectSec < 60],
  ["console RSS < 1 GiB", peakRss < 1024],
  ...(values["no-restart"] ? [] : ([[`all ${N} reconnected after a restart < 60 s`, reconnectSec < 60]] as const)),
  ["hosts list p95 < 100 ms", result.hostsListMs.p95 < 100],
  ["summary p95 < 50 ms", result.summaryMs.p95 < 50],
] as const;
for (const [name, ok] of targets) console.log(`${ok ? "PASS" : "FAIL"}  ${name}`);
if (values.out) fs.writeFileSync(values.out, JSON.stringify(result, null, 2) + "\n");

sim.kill("SIGTERM");
consoleProc.kill("SIGTERM");
await Promise.all([sim, consoleProc].map(exited));
await db.stop();
process.exit(targets.every(([, ok]) => ok) ? 0 : 1);
