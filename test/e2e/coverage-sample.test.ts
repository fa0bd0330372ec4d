// The coverage benchmark (npm run bench:coverage) on a sample, in npm test: real fixes of Debian's
// 6.1.190-1 → 6.1.192-1 stable update, one .c file per diff, staged through the API, built by the
// kbuild builder for 6.1.0-54-amd64 (which runs 6.1.190-1) and rolled out to a guest on that
// kernel. The sample is the first SAMPLE fixes in scope (built in R and compile alone) in the
// benchmark's fixed order, not a chosen few. Skipped where QEMU or apt are missing, except in CI.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAll, loadAll, patchedModules, sampleOrder, sourceTree, summarise, treeDiffs, type Call, type FixResult } from "../bench/coverage-corpus";
import { ROOT, startTestConsole, type TestConsole } from "../helpers/console";
import { KERNEL_CACHE_DIR } from "../helpers/kernels";
import { bootTestGuest, vmSkipReason, type TestGuest } from "../helpers/vm";
import path from "node:path";

const RELEASE = "6.1.0-54-amd64";
const SAMPLE = 20;

let c: TestConsole;
let guest: TestGuest | undefined;

describe.skipIf(vmSkipReason !== null)(`coverage sample: ${SAMPLE} fixes of 6.1.190-1 → 6.1.192-1, live on ${RELEASE}${vmSkipReason ? ` (skipped: ${vmSkipReason})` : ""}`, () => {
  beforeAll(async () => {
    c = await startTestConsole({ env: { SPLICER_BUILDER: "kbuild", SPLICER_KERNEL_CACHE_DIR: KERNEL_CACHE_DIR } });
  });
  afterAll(async () => {
    await guest?.dispose();
    await c?.stop();
  });

  it("builds the sample, rolls each built fix out to the guest, and no rollout succeeds that the kernel does not run", async () => {
    const log = (m: string) => console.info(`coverage: ${m}`);
    const cache = path.join(ROOT, ".data/bench-coverage");
    const diffs = sampleOrder([...treeDiffs(await sourceTree({ version: "6.1.190-1", cacheDir: cache, log }), await sourceTree({ version: "6.1.192-1", cacheDir: cache, log }))]);
    expect(diffs.length).toBeGreaterThan(100);
    const call: Call = async (method, p, body) => {
      const r = await c.api(p, { method, ...(body !== undefined ? { json: body } : {}), headers: { origin: c.url } });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null };
    };
    const results: FixResult[] = await buildAll({ call, release: RELEASE, diffs, concurrency: 2, inScope: SAMPLE, log });

    guest = await bootTestGuest(c, RELEASE, { extraModules: patchedModules(results) });
    const hosts = (await (await c.api(`/api/v1/hosts?q=${encodeURIComponent(guest.hostname)}`)).json()) as { items: { id: string; hostname: string }[] };
    const hostId = hosts.items.find((h) => h.hostname === guest!.hostname)!.id;
    const group = (await (await c.api("/api/v1/groups", { method: "POST", json: { name: "coverage guest", selector: { hostIds: [hostId] } }, headers: { origin: c.url } })).json()) as { id: string };
    const g = guest;
    const exec = async (cmd: string) => (await g.guest.exec(cmd, { timeoutMs: 60_000 })).output.trim();
    await loadAll({ call, release: RELEASE, target: { hostId, groupId: group.id, exec }, results, log });
    expect(await exec("cat /proc/meminfo /proc/loadavg > /dev/null && echo ok")).toBe("ok");

    const s = summarise(results);
    log(JSON.stringify(s));
    const table = results.map((r) => `${r.outcome.padEnd(16)} ${r.file}${r.reason ? `: ${r.reason.split("\n")[0]}` : ""}${r.live ? ` [${r.live.ok ? "live" : "NOT LIVE"}: ${r.live.detail}]` : ""}`).join("\n");
    expect(s.inScope, table).toBeGreaterThanOrEqual(SAMPLE);
    // Every fix got an outcome (a build ending in an error of the builder's own is "failed": the
    // table shows them; BENCHMARKS.md counts them).
    expect(results.every((r) => r.outcome), table).toBe(true);
    // No false success: every rollout that said succeeded shows the patch in the guest's kernel.
    expect(s.falseSuccess, table).toBe(0);
    // Every fix that was built went live: a built module the kernel refuses is a builder bug.
    expect(results.filter((r) => r.outcome === "built" && !r.live?.ok), table).toEqual([]);
    // Not asserted yet: the issue's target of ≥ 90% of the fixes in scope live (BENCHMARKS.md has
    // the measured share; refusals of data changes, __exit code and module jump labels remain).
  }, 45 * 60_000);
});
