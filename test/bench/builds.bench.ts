// npm run bench:builds -- [--hosts 5000] [--releases 40]
//
// Stages a patch for a fleet of N hosts over R kernel releases with the simulate builder and
// measures the time to plan and queue all builds (the staging request: analysis, patch row, one
// build per release, audit, in one transaction), proves exactly R builds exist, and times the
// whole matrix to "succeeded" (R simulated builds of SPLICER_SIMULATE_BUILD_MS each, at the
// console's build concurrency). A second "ensure builds" request must create nothing.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { startEmbeddedPostgres } from "../../lib/db/embedded";
import { migrate } from "../../lib/db/migrate";

const ROOT = path.resolve(import.meta.dirname, "../..");
const { values } = parseArgs({ options: { hosts: { type: "string", default: "5000" }, releases: { type: "string", default: "40" }, out: { type: "string" } } });
const HOSTS = Number(values.hosts);
const RELEASES = Number(values.releases);
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-bench-builds-"));
fs.chmodSync(dataDir, 0o755);
const db = await startEmbeddedPostgres({ dataDir: path.join(dataDir, "pg"), persistent: false });
await migrate({ url: db.url });
const client = new pg.Client({ connectionString: db.url });
await client.connect();
await client.query(
  `insert into "Host" (id, hostname, "machineId", "credentialHash", "kernelRelease", online, "lastSeenAt")
   select gen_random_uuid(), 'h-' || i, 'm-' || i, md5(i::text) || md5((i * 7)::text),
          '6.1.0-' || (i % $2::int) || '-amd64', true, now()
   from generate_series(1, $1::int) i`,
  [HOSTS, RELEASES],
);
log(`${HOSTS} hosts over ${RELEASES} kernel releases`);

const password = "bench-password-123";
const consoleProc = spawn(process.execPath, ["--import", "tsx", "--import", "./scripts/hooks/register.mjs", "scripts/serve.ts"], {
  cwd: ROOT,
  env: { ...process.env, DATABASE_URL: db.url, PORT: "0", HOST: "127.0.0.1", SPLICER_ADMIN_PASSWORD: password, SPLICER_SKIP_BUILD_CHECK: "1", SPLICER_DATA_DIR: dataDir, LOG_LEVEL: "warn" },
  stdio: ["ignore", "pipe", "inherit"],
});
process.on("exit", () => consoleProc.exitCode === null && consoleProc.kill("SIGKILL"));
const url = await new Promise<string>((resolve, reject) => {
  consoleProc.stdout!.on("data", (d: Buffer) => {
    const m = d.toString().match(/SPLICER_READY (\S+)/);
    if (m) resolve(m[1].replace("localhost", "127.0.0.1"));
  });
  consoleProc.once("exit", (c) => reject(new Error(`console exited ${c}`)));
});
const login = await fetch(`${url}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password }) });
const cookie = login.headers.getSetCookie()[0].split(";")[0];
const api = (p: string, init: RequestInit = {}) => fetch(`${url}${p}`, { ...init, headers: { cookie, origin: url, "content-type": "application/json", ...init.headers } });

const diff = fs.readFileSync(path.join(ROOT, "test/unit/lib/patches/fixtures/function-only-cmdline.diff"), "utf8");
// Warm the route (first request compiles and loads the C grammar) with a different patch.
await api("/api/v1/patches", { method: "POST", body: JSON.stringify({ title: "warm-up", severity: "low", diff: fs.readFileSync(path.join(ROOT, "test/unit/lib/patches/fixtures/new-function-added.diff"), "utf8") }) });

const t0 = performance.now();
const res = await api("/api/v1/patches", { method: "POST", body: JSON.stringify({ title: "cmdline fix", severity: "high", diff }) });
const planMs = performance.now() - t0;
const patch = (await res.json()) as { id: string; builds: { kernelRelease: string }[] };
const count = Number((await client.query(`select count(*) from "Build" where "patchId" = $1`, [patch.id])).rows[0].count);
const distinct = Number((await client.query(`select count(distinct "kernelRelease") from "Build" where "patchId" = $1`, [patch.id])).rows[0].count);
log(`staged and planned ${count} builds in ${planMs.toFixed(0)} ms`);
const again = (await (await api(`/api/v1/patches/${patch.id}/builds`, { method: "POST", body: "{}" })).json()) as { created: string[] };

let allDoneSec = NaN;
for (;;) {
  const r = await client.query(`select count(*) filter (where status = 'succeeded') as ok, count(*) filter (where status = 'failed') as failed from "Build" where "patchId" = $1`, [patch.id]);
  if (Number(r.rows[0].ok) + Number(r.rows[0].failed) === count) {
    allDoneSec = (performance.now() - t0) / 1000;
    break;
  }
  if (performance.now() - t0 > 600_000) break;
  await new Promise((r2) => setTimeout(r2, 250));
}
const result = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  hosts: HOSTS,
  releases: RELEASES,
  stageAndPlanMs: Math.round(planMs),
  builds: count,
  distinctReleases: distinct,
  createdBySecondEnsure: again.created.length,
  allBuildsDoneSec: Number(allDoneSec.toFixed(1)),
  simulateBuildMs: Number(process.env.SPLICER_SIMULATE_BUILD_MS ?? 1500),
  buildConcurrency: Number(process.env.SPLICER_BUILD_CONCURRENCY ?? 2),
};
console.log(JSON.stringify(result, null, 2));
const ok = count === RELEASES && distinct === RELEASES && again.created.length === 0;
console.log(`${ok ? "PASS" : "FAIL"}  exactly ${RELEASES} builds`);
if (values.out) fs.writeFileSync(values.out, JSON.stringify(result, null, 2) + "\n");
await client.end();
consoleProc.kill("SIGTERM");
await new Promise((r) => consoleProc.once("exit", r));
await db.stop();
fs.rmSync(dataDir, { recursive: true, force: true });
process.exit(ok ? 0 : 1);
