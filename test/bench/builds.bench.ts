// npm run bench:builds -- [--hosts 5000] [--releases 40]
//
// Stages a patch for a fleet of N hosts over R kernel releases with the simulate builder and
// measures the time to plan and queue all builds (the staging request: analysis, patch row, one
// build per release, audit, in one transaction), proves exactly R builds exist, and times the
// whole matrix to "succeeded" (R simulated builds of SPLICER_SIMULATE_BUILD_MS each, at the
// console's build concurrency). A second "ensure builds" request must create nothing.
import fs from "node:fs";
import { parseArgs } from "node:util";
import pg from "pg";
import { benchDatabase, exited, log, machine, startBenchConsole } from "./lib";
import { diffFixture } from "../helpers/fixtures";

const { values } = parseArgs({ options: { hosts: { type: "string", default: "5000" }, releases: { type: "string", default: "40" }, out: { type: "string" } } });
const HOSTS = Number(values.hosts);
const RELEASES = Number(values.releases);

const db = await benchDatabase("builds");
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

const { proc: consoleProc, api } = await startBenchConsole({ dbUrl: db.url, dataDir: db.dataDir });

const diff = diffFixture("function-only-cmdline.diff");
// Warm the route (first request compiles and loads the C grammar) with a patch of another file
// (one of fs/proc/cmdline.c would be built first and this one on top of it: lib/builds/stacking.ts).
await api("/api/v1/patches", { method: "POST", body: JSON.stringify({ title: "warm-up", severity: "low", diff: diffFixture("bounds-check-ipv4.diff") }) });

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
  machine: machine(),
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
await exited(consoleProc);
await db.stop();
process.exit(ok ? 0 : 1);
