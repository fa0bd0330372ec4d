// Apply and revert against the fake kernel: real insmod/rmmod processes (fake programs) change a
// fake sysfs tree; the fake kernel completes, stalls and reverses transitions.
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LivepatchBackend } from "../../../../agent/backends/livepatch";
import { KernelError, type BackendPhase } from "../../../../agent/backends/types";
import { BLOCKING_TASK, startFakeKernel, type FakeKernel } from "../../../helpers/fake-kernel";
import { rejectionOf } from "../../../helpers/rejection";

let kernel: FakeKernel;
let phases: BackendPhase[];
let log: string[];

beforeEach(async () => {
  kernel = await startFakeKernel();
  phases = [];
  log = [];
});
afterEach(async () => {
  await kernel.stop();
});

const modulesDir = () => path.join(kernel.root, "state", "modules");
const backend = (over: Partial<ConstructorParameters<typeof LivepatchBackend>[0]> = {}) =>
  new LivepatchBackend({
    sysRoot: kernel.sysRoot,
    procRoot: kernel.procRoot,
    modulesDir: modulesDir(),
    insmod: kernel.insmod,
    rmmod: kernel.rmmod,
    pollMs: 10,
    cleanupTimeoutMs: 5000,
    // The fake kernel acts inside the write to `enabled`, as the real one does: no race with its tick.
    writeAttribute: kernel.writeAttribute,
    ...over,
  });
const common = (timeoutMs = 5000) => ({ timeoutMs, onPhase: (p: BackendPhase) => phases.push(p), onLog: (l: string) => log.push(l) });

const failure = (p: Promise<unknown>) => rejectionOf(p, KernelError);

describe("LivepatchBackend.apply", () => {
  it("writes the module (0600), loads it with insmod, waits for the transition and checks enabled", async () => {
    const bytes = kernel.moduleBytes("normal");
    expect(await backend().apply({ moduleName: "lp_cve_1", artifact: bytes, ...common() })).toEqual({ changed: true });
    const ko = path.join(modulesDir(), "lp_cve_1.ko");
    expect(await fs.readFile(ko)).toEqual(bytes);
    expect((await fs.stat(ko)).mode & 0o777).toBe(0o600);
    expect(await kernel.calls()).toEqual([`insmod ${ko}`]);
    expect(await kernel.livepatch("lp_cve_1")).toEqual({ enabled: true, transition: false });
    expect(phases).toEqual(["applying", "verifying"]);
    expect(log.join("\n")).toMatch(/loading .*lp_cve_1\.ko[\s\S]*enabled and every task has switched/);
    expect(await backend().listLivepatches()).toEqual([{ name: "lp_cve_1", enabled: true, transition: false }]);
  });

  it("reports the kernel's taint after loading, naming the flags a livepatch sets", async () => {
    await fs.mkdir(path.join(kernel.procRoot, "sys/kernel"), { recursive: true });
    // K (live patched), E (unsigned module), O (out-of-tree module): what a loaded livepatch leaves.
    await fs.writeFile(path.join(kernel.procRoot, "sys/kernel/tainted"), "45056\n");
    await backend().apply({ moduleName: "lp_taint", artifact: kernel.moduleBytes("normal"), ...common() });
    expect(log).toContain("kernel taint 45056 (O: out-of-tree module, E: unsigned module, K: live patched)");
  });

  it("reports the kernel's refusal (insmod's stderr) and leaves nothing loaded", async () => {
    const err = await failure(backend().apply({ moduleName: "lp_bad", artifact: kernel.moduleBytes("refuse"), ...common() }));
    expect(err.message).toMatch(/could not load lp_bad: insmod: ERROR: could not insert module .*lp_bad\.ko: Invalid parameters \(exit 1\)/);
    expect(err.timedOut).toBe(false);
    expect(err.blockingTasks).toBeUndefined();
    expect(await kernel.livepatch("lp_bad")).toBeNull();
    expect(phases).toEqual(["applying"]);
  });

  it("reverses a stalled transition, unloads the module and names the blocking task", async () => {
    const started = Date.now();
    const err = await failure(backend().apply({ moduleName: "lp_stall", artifact: kernel.moduleBytes("stall"), ...common(400) }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
    expect(err.timedOut).toBe(true);
    expect(err.blockingTasks).toEqual([BLOCKING_TASK]);
    expect(err.message).toBe("the livepatch lp_stall transition was blocked by task 4242 (fake-blocker); the patch was reversed and unloaded");
    expect(await kernel.livepatch("lp_stall")).toBeNull();
    expect(await kernel.moduleLoaded("lp_stall")).toBe(false);
    // rmmod may be retried while the kernel still holds the module right after the transition.
    const [insmod, ...rest] = await kernel.calls();
    expect(insmod).toMatch(/^insmod .*lp_stall\.ko$/);
    expect(new Set(rest)).toEqual(new Set(["rmmod lp_stall"]));
    expect(phases).toEqual(["applying"]);
  });

  it("stops waiting and reverses when the job's signal aborts", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 150);
    const err = await failure(backend().apply({ moduleName: "lp_abort", artifact: kernel.moduleBytes("stall"), ...common(60_000), signal: ac.signal }));
    expect(err.message).toMatch(/blocked by task 4242 \(fake-blocker\); the patch was reversed and unloaded/);
    expect(err.timedOut).toBe(true);
    expect(err.blockingTasks).toEqual([BLOCKING_TASK]);
    expect(await kernel.moduleLoaded("lp_abort")).toBe(false);
  });

  it("does not load a module that is already loaded and enabled", async () => {
    await kernel.load("lp_there");
    expect(await backend().apply({ moduleName: "lp_there", artifact: kernel.moduleBytes(), ...common() })).toEqual({ changed: false });
    expect(await kernel.calls()).toEqual([]);
    expect(log.join("\n")).toContain("already loaded and enabled; not loading it again");
  });

  it("waits for the transition of a module a previous run loaded (resume after a crash)", async () => {
    await kernel.load("lp_mid", { transition: true });
    expect(await backend().apply({ moduleName: "lp_mid", artifact: kernel.moduleBytes(), ...common() })).toEqual({ changed: false });
    expect(await kernel.livepatch("lp_mid")).toEqual({ enabled: true, transition: false });
    expect(await kernel.calls()).toEqual([]);
  });

  it("says so when the insmod command does not exist, and refuses an unsafe module name", async () => {
    const err = await failure(backend({ insmod: "/nonexistent/insmod" }).apply({ moduleName: "lp_x", artifact: kernel.moduleBytes(), ...common() }));
    expect(err.message).toContain("/nonexistent/insmod: command not found");
    expect((await failure(backend().apply({ moduleName: "..", artifact: Buffer.from(""), ...common() }))).message).toMatch(/invalid livepatch module name/);
  });
});

describe("LivepatchBackend.revert", () => {
  it("disables the patch, waits for the transition, then unloads it with rmmod", async () => {
    const b = backend();
    await b.apply({ moduleName: "lp_r", artifact: kernel.moduleBytes(), ...common() });
    phases = [];
    expect(await b.revert({ moduleName: "lp_r", ...common() })).toEqual({ changed: true });
    expect(await kernel.livepatch("lp_r")).toBeNull();
    expect(await kernel.moduleLoaded("lp_r")).toBe(false);
    expect((await kernel.calls()).at(-1)).toBe("rmmod lp_r");
    expect(phases).toEqual(["applying", "verifying"]);
    expect(log.join("\n")).toMatch(/disabling livepatch lp_r[\s\S]*unloading: .*rmmod\.sh.* lp_r[\s\S]*disabled and unloaded/);
  });

  it("is a no-op when the patch is already gone", async () => {
    expect(await backend().revert({ moduleName: "lp_gone", ...common() })).toEqual({ changed: false });
    expect(await kernel.calls()).toEqual([]);
    expect(log.join("\n")).toContain("not loaded; nothing to revert");
  });

  it("unloads a module whose livepatch is already disabled and freed", async () => {
    await kernel.load("lp_half", { enabled: false });
    await fs.rm(path.join(kernel.sysRoot, "kernel/livepatch/lp_half"), { recursive: true });
    expect(await backend().revert({ moduleName: "lp_half", ...common() })).toEqual({ changed: true });
    expect(await kernel.calls()).toEqual(["rmmod lp_half"]);
    expect(await kernel.moduleLoaded("lp_half")).toBe(false);
  });

  it("re-enables a patch whose revert stalls and names the task keeping it", async () => {
    // A fake kernel that ticks slowly: the transition must still start inside the write to
    // `enabled` (writeAttribute), never on a later tick the backend might not wait for.
    await kernel.stop();
    kernel = await startFakeKernel({ tickMs: 300 });
    await kernel.load("lp_sticky", { mode: "revert-stall" });
    const err = await failure(backend().revert({ moduleName: "lp_sticky", ...common(300) }));
    expect(err.timedOut).toBe(true);
    expect(err.blockingTasks).toEqual([BLOCKING_TASK]);
    expect(err.message).toBe("the livepatch lp_sticky transition was blocked by task 4242 (fake-blocker); the patch was re-enabled and stays applied");
    expect(await kernel.livepatch("lp_sticky")).toEqual({ enabled: true, transition: false });
    expect(await kernel.moduleLoaded("lp_sticky")).toBe(true);
    expect(phases).toEqual(["applying"]);
  });
});
