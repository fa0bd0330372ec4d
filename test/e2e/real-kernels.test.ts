// The core claim on real kernels: a patch staged in the console is built into a real livepatch
// module once per kernel release (kbuild builder, Debian's headers), rolled out to agents running
// on those kernels in QEMU guests, loaded into the running kernels without a reboot, verified,
// and rolled back. Also: a module the kernel refuses to load fails its host with the kernel's
// error and nothing else in the rollout breaks. Skipped where QEMU, busybox, the kernel headers
// or source are missing, except in CI (which installs them).
import fs from "node:fs";
import path from "node:path";
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Build, Group, PatchDetail, RolloutDetail, RolloutSummary } from "@/lib/api/schemas";
import { loadSigningKey } from "@/lib/builds/signing";
import { SHOTS, haveBrowser, launchBrowser, openPage, signInAsAdmin } from "../helpers/browser";
import { ROOT, eventually, startTestConsole, type TestConsole } from "../helpers/console";
import { bootTestGuests, vmSkipReason, type TestGuest } from "../helpers/vm";

const RELEASES = ["6.1.0-50-amd64", "6.1.0-47-amd64"];
const SOURCE = "/usr/src/linux-source-6.1.tar.xz";
const missing = [SOURCE, ...RELEASES.map((r) => `/usr/src/linux-headers-${r}`)].filter((p) => !fs.existsSync(p));
const skipReason = vmSkipReason ?? (missing.length && process.env.CI !== "true" ? `needs ${missing.join(", ")}` : null);
const MARKER = "splicer-patched";

let c: TestConsole;
let guests: TestGuest[] = [];
const before = new Map<string, { bootId: string; cmdline: string }>();

async function json<T>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}
const post = (p: string, body: unknown = {}) => c.api(p, { method: "POST", json: body, headers: { origin: c.url } });
const sh = async (g: TestGuest, cmd: string) => (await g.guest.exec(cmd)).output.trim();
const logs = () => guests.map((g) => g.logs()).join("\n");

async function stage(diff: string, title: string): Promise<PatchDetail> {
  return json<PatchDetail>(await post("/api/v1/patches", { title, severity: "high", cves: ["CVE-2026-40001"], diff }));
}

async function builtOnce(patchId: string): Promise<Build[]> {
  return eventually(async () => {
    const { items } = await json<{ items: Build[] }>(await c.api(`/api/v1/patches/${patchId}/builds`));
    if (items.some((b) => b.status === "failed")) throw new Error(`a build failed: ${JSON.stringify(items.map((b) => [b.kernelRelease, b.error]))}`);
    return items.length === RELEASES.length && items.every((b) => b.status === "succeeded") ? items : null;
  }, { what: "both kbuild builds succeeded", timeoutMs: 300_000, intervalMs: 500 });
}

async function finished(id: string): Promise<RolloutDetail> {
  return eventually(async () => {
    const d = await json<RolloutDetail>(await c.api(`/api/v1/rollouts/${id}`));
    return ["completed", "aborted", "paused"].includes(d.status) ? d : null;
  }, { what: `rollout ${id} finished\n${logs()}`, timeoutMs: 240_000, intervalMs: 500 });
}

describe.skipIf(skipReason !== null)(`real kernels ${RELEASES.join(", ")}${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  let group: Group;
  let rollout: RolloutDetail;
  let moduleName: string;

  beforeAll(async () => {
    c = await startTestConsole({
      env: {
        SPLICER_BUILDER: "kbuild",
        SPLICER_KERNEL_SOURCE_TEMPLATE: SOURCE,
        // The extracted source files survive between runs (the first extraction takes ~15 s).
        SPLICER_KBUILD_CACHE_DIR: path.join(ROOT, ".data/kbuild-cache"),
      },
    });
    guests = await bootTestGuests(c, RELEASES);
    for (const g of guests) before.set(g.hostname, { bootId: g.boot.bootId, cmdline: await sh(g, "cat /proc/cmdline") });
  });

  afterAll(async () => {
    await Promise.all(guests.map((g) => g.dispose()));
    await c?.stop();
  });

  it("builds exactly one real livepatch module per kernel release, each against its own headers", async () => {
    const patch = await stage(fs.readFileSync(path.join(ROOT, "test/unit/lib/patches/fixtures/cmdline-marker.diff"), "utf8"), "proc: marker in /proc/cmdline");
    const builds = await builtOnce(patch.id);
    expect(builds.map((b) => b.kernelRelease).sort()).toEqual([...RELEASES].sort());
    expect(builds.every((b) => b.builder === "kbuild" && b.attempts === 1)).toBe(true);
    moduleName = builds[0].moduleName!;
    const secs = (a: string | null, b: string | null) => ((Date.parse(b!) - Date.parse(a!)) / 1000).toFixed(1);
    console.info(`real-kernels: kbuild build times ${builds.map((b) => `${b.kernelRelease} ${secs(b.startedAt, b.finishedAt)} s`).join(", ")}`);
    for (const b of builds) {
      const log = await json<{ log: string }>(await c.api(`/api/v1/builds/${b.id}/log`));
      expect(log.log).toContain(`/usr/src/linux-headers-${b.kernelRelease}`);
    }
    group = await json<Group>(await post("/api/v1/groups", { name: "vm hosts", selector: { hostIds: await hostIds() } }), 201);
    expect(group.memberCount).toBe(2);

    // Rolled out with the default strategy.
    const started = await json<RolloutSummary>(await post("/api/v1/rollouts", { patchId: patch.id, groupId: group.id }), 201);
    rollout = await finished(started.id);
    expect(rollout.counts, `${JSON.stringify(rollout.hosts)}\n${logs()}`).toEqual({ succeeded: 2 });
    console.info(`real-kernels: dispatch → enabled=1 ${rollout.hosts.map((h) => `${h.kernelRelease} ${((Date.parse(h.finishedAt!) - Date.parse(h.startedAt!)) / 1000).toFixed(1)} s`).join(", ")}`);
  });

  it("refuses, before compiling, a patch whose function uses a symbol modules cannot reach, and the analysis says so", async () => {
    const patch = await stage(fs.readFileSync(path.join(ROOT, "test/unit/lib/patches/fixtures/function-only-cmdline.diff"), "utf8"), "proc: cmdline via saved_command_line");
    const builds = await eventually(async () => {
      const { items } = await json<{ items: Build[] }>(await c.api(`/api/v1/patches/${patch.id}/builds`));
      return items.length === RELEASES.length && items.every((b) => b.status === "failed") ? items : null;
    }, { what: "both builds refused", timeoutMs: 120_000, intervalMs: 500 });
    for (const b of builds) expect(b.error).toMatch(/saved_command_line.*not export/);
    const detail = await json<PatchDetail>(await c.api(`/api/v1/patches/${patch.id}`));
    const refusals = (detail.analysis as { builderRefusals?: Record<string, { builder: string; message: string }> }).builderRefusals ?? {};
    expect(Object.keys(refusals).sort()).toEqual([...RELEASES].sort());
    expect(Object.values(refusals).every((r) => r.builder === "kbuild" && r.message.includes("saved_command_line"))).toBe(true);
  });

  it("the running kernels print the patched text, the patch is enabled, and neither host rebooted", async () => {
    for (const g of guests) {
      expect(await sh(g, "cat /proc/cmdline")).toBe(MARKER);
      expect(await sh(g, `cat /sys/kernel/livepatch/${moduleName}/enabled`)).toBe("1");
      expect(await sh(g, `cat /sys/kernel/livepatch/${moduleName}/transition`)).toBe("0");
      expect(await sh(g, "cat /proc/sys/kernel/random/boot_id")).toBe(before.get(g.hostname)!.bootId);
    }
    // The agent's job log says what the kernel now reports about itself.
    const job = await json<{ log: string }>(await c.api(`/api/v1/rollouts/${rollout.id}/hosts/${rollout.hosts[0].hostId}`));
    expect(job.log).toMatch(/kernel taint \d+ \(.*K: live patched/);
    // The console sees it too: the host's effective kernel names the patch.
    await eventually(async () => {
      const h = await json<{ effective: { summary: string } }>(await c.api(`/api/v1/hosts/${rollout.hosts[0].hostId}`));
      return h.effective.summary.endsWith("+ 1 livepatch") ? true : null;
    }, { what: "effective kernel with the livepatch" });
  });

  it("shows the rollout page with the two VM hosts", async () => {
    if (!haveBrowser) return;
    const browser: Browser = await launchBrowser();
    const contexts: BrowserContext[] = [];
    try {
      const page = await openPage(browser, c.url, contexts, "light");
      await signInAsAdmin(page, c.adminPassword, `/rollouts/${rollout.id}`);
      await page.getByText(guests[0].hostname).first().waitFor();
      await page.screenshot({ path: path.join(SHOTS, "rollout-real-kernels-light.png"), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it("rolls back: the original text is back and the module is gone", async () => {
    const rb = await json<RolloutSummary>(await post(`/api/v1/rollouts/${rollout.id}/rollback`, { reason: "end-to-end test" }), 201);
    const done = await finished(rb.id);
    expect(done.counts, logs()).toEqual({ reverted: 2 });
    for (const g of guests) {
      expect(await sh(g, "cat /proc/cmdline")).toBe(before.get(g.hostname)!.cmdline);
      expect((await g.guest.exec(`test -e /sys/kernel/livepatch/${moduleName} || test -e /sys/module/${moduleName}`)).code).toBe(1);
      expect(await sh(g, "cat /proc/sys/kernel/random/boot_id")).toBe(before.get(g.hostname)!.bootId);
    }
  });

  it("a module the kernel refuses to load fails that host with the kernel's error; the other host is patched", async () => {
    // A second patch; then its 6.1.0-50 artifact is replaced by the 6.1.0-47 module, signed by the
    // console as if it were 6.1.0-50's: the agent accepts it, the kernel does not.
    const diff = fs.readFileSync(path.join(ROOT, "test/unit/lib/patches/fixtures/cmdline-marker.diff"), "utf8").replace(`"${MARKER}\\n"`, `"${MARKER}-again\\n"`);
    const patch = await stage(diff, "proc: another marker");
    const builds = await builtOnce(patch.id);
    const [wrong, right] = [builds.find((b) => b.kernelRelease === RELEASES[0])!, builds.find((b) => b.kernelRelease === RELEASES[1])!];
    const key = await loadSigningKey({ dataDir: c.dataDir });
    const signature = key.sign({ artifactSha256: right.artifactSha256!, patchId: patch.id, kernelRelease: wrong.kernelRelease, moduleName: right.moduleName! });
    await c.db.query(`update "Build" set "artifactSha256" = $1, signature = $2 where id = $3`, [right.artifactSha256, signature, wrong.id]);

    const started = await json<RolloutSummary>(await post("/api/v1/rollouts", { patchId: patch.id, groupId: group.id, strategy: { canary: 0, waves: "100%", failureBudget: 1 } }), 201);
    const done = await finished(started.id);
    expect(done.counts, JSON.stringify(done.hosts)).toEqual({ succeeded: 1, failed: 1 });
    const failed = done.hosts.find((h) => h.state === "failed")!;
    expect(failed.kernelRelease).toBe(RELEASES[0]);
    // The kernel's own words: a module built for another kernel has the wrong vermagic.
    expect(failed.error).toMatch(/insmod|Invalid module format|disagrees|vermagic|Exec format/i);
    const g50 = guests.find((g) => g.hostname === failed.hostname)!;
    const g47 = guests.find((g) => g !== g50)!;
    expect(await sh(g50, "cat /proc/cmdline")).toBe(before.get(g50.hostname)!.cmdline);
    expect(await sh(g47, "cat /proc/cmdline")).toBe(`${MARKER}-again`);
  });
});

async function hostIds(): Promise<string[]> {
  const ids: string[] = [];
  for (const g of guests) {
    const r = await json<{ items: { id: string; hostname: string }[] }>(await c.api(`/api/v1/hosts?q=${encodeURIComponent(g.hostname)}`));
    ids.push(r.items.find((h) => h.hostname === g.hostname)!.id);
  }
  return ids;
}
