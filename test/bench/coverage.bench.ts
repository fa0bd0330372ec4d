// npm run bench:coverage -- --from 6.1.190-1 --to 6.1.192-1 --release 6.1.0-54-amd64 [--sample N | --start-at PATH] [--load] [--out file.json]
//
// How many real fixes end live. Every .c file Debian's linux-source-6.1 changes between two
// versions becomes its own diff (test/bench/coverage-corpus.ts), staged through the API of a
// console with the kbuild builder for one release, built, and classified by outcome: built,
// refused (why), not built in R, does not compile alone, already fixed. With --load, each built
// fix is rolled out to a QEMU guest on that release (its real Debian kernel, the real agent) and
// checked in the guest's kernel, which must stay up. --sample N stops once N fixes are in scope
// (built in R and compile alone), taken in a fixed order spread over the tree.
//
// Also measured: preparing the release (fetch, extract, prepare; from the cache's own record when
// it was prepared before) and the time per build. Caches: .data/bench-coverage (source trees),
// the kernel cache (SPLICER_KERNEL_CACHE_DIR, default .data/kernel-cache) and .data/vm-cache.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { prepareRelease } from "../../lib/builds/release";
import { missingVmTools, prepareGuest } from "../../scripts/lib/vm/fleet";
import { buildAll, loadAll, patchedModules, sampleOrder, sourceTree, summarise, treeDiffs, type Call, type FixResult } from "./coverage-corpus";
import { ROOT, benchDatabase, exited, log, machine, startBenchConsole } from "./lib";

const { values } = parseArgs({
  options: {
    from: { type: "string", default: "6.1.190-1" },
    to: { type: "string", default: "6.1.192-1" },
    release: { type: "string", default: "6.1.0-54-amd64" },
    sample: { type: "string" },
    // Resume a whole-corpus run: the files from this path on, in path order.
    "start-at": { type: "string" },
    load: { type: "boolean", default: false },
    concurrency: { type: "string", default: "2" },
    out: { type: "string" },
  },
});
const release = values.release!;
const kernelCache = path.resolve(process.env.SPLICER_KERNEL_CACHE_DIR ?? path.join(ROOT, ".data/kernel-cache"));
const corpusCache = path.join(ROOT, ".data/bench-coverage");
if (values.load && missingVmTools().length) throw new Error(`--load needs ${missingVmTools().join("; ")}`);

const t0 = performance.now();
const [oldTree, newTree] = [await sourceTree({ version: values.from!, cacheDir: corpusCache, log }), await sourceTree({ version: values.to!, cacheDir: corpusCache, log })];
const all = [...treeDiffs(oldTree, newTree)];
log(`${all.length} changed .c files between ${values.from} and ${values.to} (${((performance.now() - t0) / 1000).toFixed(0)} s to fetch and diff)`);

// Prepared here first so that its time is its own, not the first build's.
const prepStarted = performance.now();
const prepared = await prepareRelease({ release, cacheDir: kernelCache, signal: new AbortController().signal, log: (m) => log(`[${release}] ${m}`) });
const prepareSec = (performance.now() - prepStarted) / 1000;
log(`${release}: ${prepared.reused ? `prepared before (${(prepared.timings.total ?? 0) / 1000} s then)` : `prepared in ${prepareSec.toFixed(0)} s`}`);

const db = await benchDatabase("coverage");
const c = await startBenchConsole({
  dbUrl: db.url,
  dataDir: db.dataDir,
  env: { SPLICER_BUILDER: "kbuild", SPLICER_KERNEL_CACHE_DIR: kernelCache, SPLICER_BUILD_WORKERS: values.concurrency! },
});
const call: Call = async (method, p, body) => {
  const r = await c.api(p, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
};

let stopGuest = async () => {};
try {
  const order = values.sample ? sampleOrder(all) : values["start-at"] ? all.filter((d) => d.file >= values["start-at"]!) : all;
  const results: FixResult[] = await buildAll({ call, release, diffs: order, concurrency: Number(values.concurrency), inScope: values.sample ? Number(values.sample) : undefined, log });

  // The builds' results are kept even if loading goes wrong (a guest that dies is itself a finding).
  let loadError: string | null = null;
  const write = () => {
    const report = {
      date: new Date().toISOString(),
      machine: machine(),
      from: values.from,
      to: values.to,
      release,
      source: prepared.debianVersion,
      changedFiles: all.length,
      sample: values.sample ? Number(values.sample) : null,
      prepare: prepared.reused ? { reused: true, recordedMs: prepared.timings } : { reused: false, seconds: +prepareSec.toFixed(1), timings: prepared.timings },
      buildConcurrency: Number(values.concurrency),
      ...summarise(results),
      ...(loadError ? { loadError } : {}),
      fixes: results.map((r) => ({ file: r.file, outcome: r.outcome, reason: r.reason?.split("\n")[0] ?? null, buildSec: r.buildSec, replaced: r.build?.report?.replaced.map((f) => `${f.object}:${f.function}`), live: r.live })),
    };
    if (values.out) fs.writeFileSync(values.out, JSON.stringify(report, null, 2) + "\n");
    return report;
  };
  write();

  const load = async () => {
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-coverage-vm-"));
    const token = (await c.json<{ token: string }>("/api/v1/enrollment-tokens", { method: "POST", body: JSON.stringify({ maxUses: 2, expiresInHours: 1 }) })).token;
    const g = await prepareGuest({ release, server: c.url, enrollToken: token, cacheDir: path.join(ROOT, ".data/vm-cache"), runDir, agentBundle: path.join(ROOT, "agent/dist/splicer-agent.js"), memoryMb: 2048, extraModules: patchedModules(results), progress: log });
    stopGuest = async () => {
      await g.guest.stop();
      fs.rmSync(runDir, { recursive: true, force: true });
    };
    await g.guest.boot({ waitForAgent: true, timeoutMs: 180_000 });
    const hosts = await c.json<{ items: { id: string; hostname: string }[] }>(`/api/v1/hosts?q=${encodeURIComponent(g.hostname)}`);
    const hostId = hosts.items.find((h) => h.hostname === g.hostname)!.id;
    const group = await c.json<{ id: string }>("/api/v1/groups", { method: "POST", body: JSON.stringify({ name: "coverage guest", selector: { hostIds: [hostId] } }) });
    const exec = async (cmd: string) => (await g.guest.exec(cmd, { timeoutMs: 60_000 })).output.trim();
    await loadAll({ call, release, target: { hostId, groupId: group.id, exec }, results, log });
    // Still up and working after all of them: a few of the patched paths run.
    const up = await exec("cat /proc/meminfo /proc/cmdline /proc/loadavg > /dev/null; ls / > /dev/null; echo ok");
    if (up !== "ok") throw new Error(`the guest does not answer after the last rollout: ${up}`);
  };
  if (values.load) await load().catch((err: unknown) => {
    loadError = err instanceof Error ? err.message : String(err);
    log(`loading stopped: ${loadError}`);
    process.exitCode = 1;
  });

  const summary = summarise(results);
  const report = write();
  console.log(JSON.stringify({ ...report, fixes: undefined }, null, 2));
  const met = (summary.livePct ?? summary.builtPct) >= 90 && (summary.falseSuccess ?? 0) === 0;
  console.log(`${met ? "TARGET MET" : "TARGET NOT MET"}: ${summary.live ?? summary.built} of ${summary.inScope} in-scope fixes ${summary.live !== undefined ? "live" : "built"} (${summary.livePct ?? summary.builtPct}%), ${summary.falseSuccess ?? 0} false successes`);
} finally {
  await stopGuest();
  c.proc.kill("SIGTERM");
  await exited(c.proc);
  await db.stop();
}
