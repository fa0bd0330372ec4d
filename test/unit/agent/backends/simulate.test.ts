import { describe, expect, it } from "vitest";
import { SIMULATED_ARTIFACT_FORMAT, SimulatedKernel } from "../../../../agent/backends/simulate";
import { KernelError, type BackendPhase } from "../../../../agent/backends/types";
import { rejectionOf } from "../../../helpers/rejection";

describe("SimulatedKernel", () => {
  const clock = { t: 10_000_000, now() { return this.t; } };

  it("overrides only the facts it was given, plus uptime from its boot time", () => {
    const k = new SimulatedKernel({
      kernelRelease: "6.1.0-50-amd64",
      distro: { id: "debian", name: "Debian GNU/Linux", version: "12" },
      bootId: "b00t",
      bootedAtMs: clock.t - 3_600_000,
      hostname: undefined,
      timers: clock,
    });
    expect(k.inventoryOverrides()).toEqual({
      kernelRelease: "6.1.0-50-amd64",
      distro: { id: "debian", name: "Debian GNU/Linux", version: "12" },
      bootId: "b00t",
      uptimeSec: 3600,
    });
    expect(new SimulatedKernel().inventoryOverrides()).toEqual({});
  });

  it("keeps an in-memory livepatch list, sorted, and hands out copies", async () => {
    const k = new SimulatedKernel({
      livepatches: [
        { name: "b", enabled: true, transition: false },
        { name: "a", enabled: false, transition: false },
      ],
    });
    const list = await k.listLivepatches();
    expect(list.map((p) => p.name)).toEqual(["a", "b"]);
    list[0]!.enabled = true;
    expect((await k.listLivepatches())[0]!.enabled).toBe(false);
    k.setLivepatches([{ name: "c", enabled: true, transition: true }]);
    expect(await k.listLivepatches()).toEqual([{ name: "c", enabled: true, transition: true }]);
  });

  it("reboot() gives a new boot id, zero uptime and no livepatches", async () => {
    const k = new SimulatedKernel({
      bootId: "old",
      bootedAtMs: clock.t - 1e9,
      livepatches: [{ name: "p", enabled: true, transition: false }],
      timers: clock,
    });
    k.reboot();
    const o = k.inventoryOverrides();
    expect(o.bootId).not.toBe("old");
    expect(o.bootId).toMatch(/^[0-9a-f-]{36}$/);
    expect(o.uptimeSec).toBe(0);
    expect(await k.listLivepatches()).toEqual([]);
  });
});

const RELEASE = "6.1.0-50-amd64";
const artifact = (over: Record<string, unknown> = {}) =>
  Buffer.from(JSON.stringify({ format: SIMULATED_ARTIFACT_FORMAT, moduleName: "lp_sim", kernelRelease: RELEASE, patchId: "p", replaces: [], ...over }));

const failure = (p: Promise<unknown>) => rejectionOf(p, KernelError);

describe("SimulatedKernel apply/revert", () => {
  const opts = (over = {}) => ({ moduleName: "lp_sim", artifact: artifact(), timeoutMs: 10_000, ...over });

  it("adds the livepatch (enabled, no transition), reporting applying then verifying; revert removes it", async () => {
    const k = new SimulatedKernel({ kernelRelease: RELEASE });
    const phases: BackendPhase[] = [];
    const log: string[] = [];
    expect(await k.apply(opts({ onPhase: (p: BackendPhase) => phases.push(p), onLog: (l: string) => log.push(l) }))).toEqual({ changed: true });
    expect(phases).toEqual(["applying", "verifying"]);
    expect(log.join("\n")).toContain("insmod /var/lib/splicer-agent/modules/lp_sim.ko");
    expect(await k.listLivepatches()).toEqual([{ name: "lp_sim", enabled: true, transition: false }]);
    expect(await k.apply(opts())).toEqual({ changed: false });
    expect(await k.revert({ moduleName: "lp_sim", timeoutMs: 1000 })).toEqual({ changed: true });
    expect(await k.revert({ moduleName: "lp_sim", timeoutMs: 1000 })).toEqual({ changed: false });
    expect(await k.listLivepatches()).toEqual([]);
    expect(k.operations.map((o) => `${o.kind}:${o.outcome}`)).toEqual(["apply:changed", "apply:unchanged", "revert:changed", "revert:unchanged"]);
  });

  it("loads only the simulate builder's format, for this module and this kernel", async () => {
    const k = new SimulatedKernel({ kernelRelease: RELEASE });
    const log: string[] = [];
    const onLog = (l: string) => log.push(l);
    for (const bad of [Buffer.from("\u007fELF"), artifact({ format: "other/1" }), artifact({ moduleName: "lp_other" }), artifact({ kernelRelease: "5.15.0-1-generic" })]) {
      const err = await failure(k.apply(opts({ artifact: bad, onLog })));
      expect(err.message).toBe("insmod: ERROR: could not insert module /var/lib/splicer-agent/modules/lp_sim.ko: Invalid module format");
    }
    expect(log).toEqual([
      expect.stringContaining("not JSON"),
      expect.stringContaining('format is "other/1"'),
      expect.stringContaining('module "lp_other", not lp_sim'),
      expect.stringContaining("built for 5.15.0-1-generic, running 6.1.0-50-amd64"),
    ]);
    expect(await k.listLivepatches()).toEqual([]);
  });

  it("takes the configured apply time, and times out (leaving the kernel as it was) when the job's signal aborts", async () => {
    const k = new SimulatedKernel({ kernelRelease: RELEASE, behavior: { applyMs: 120 } });
    const t0 = Date.now();
    await k.apply(opts());
    expect(Date.now() - t0).toBeGreaterThanOrEqual(110);
    await k.revert({ moduleName: "lp_sim", timeoutMs: 1000 });
    k.setBehavior({ applyMs: 5_000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    const t1 = Date.now();
    const err = await failure(k.apply(opts({ signal: ac.signal })));
    expect(Date.now() - t1).toBeLessThan(1000);
    expect(err.timedOut).toBe(true);
    expect(await k.listLivepatches()).toEqual([]);
  });

  it("fails at the configured rate with kernel-like messages (refused, or a stall naming a task)", async () => {
    // random() sequence: below the rate → fail; then < 0.5 → refused, else stall (pid, comm picks).
    const seq = [0.1, 0.2, 0.1, 0.9, 0.5, 0.0, 0.95];
    const k = new SimulatedKernel({ kernelRelease: RELEASE, behavior: { failureRate: 0.3 }, random: () => seq.shift() ?? 0.99 });
    expect((await failure(k.apply(opts()))).message).toMatch(/^insmod: ERROR: could not insert module .*lp_sim\.ko: Invalid parameters$/);
    const stall = await failure(k.apply(opts()));
    expect(stall.blockingTasks).toEqual([{ pid: 16000, comm: "postgres" }]);
    expect(stall.message).toBe("the livepatch lp_sim transition was blocked by task 16000 (postgres); the patch was reversed and unloaded");
    expect(await k.listLivepatches()).toEqual([]);
    expect(await k.apply(opts())).toEqual({ changed: true }); // 0.95 >= 0.3
  });

  it("fails every apply when forced (this host fails), changeable at run time; reverts only with failReverts", async () => {
    const k = new SimulatedKernel({ kernelRelease: RELEASE, behavior: { forceFailure: "refused" } });
    expect((await failure(k.apply(opts()))).message).toContain("Invalid parameters");
    k.setBehavior({ forceFailure: "stall" });
    expect((await failure(k.apply(opts()))).blockingTasks).toHaveLength(1);
    k.setBehavior({ forceFailure: null });
    await k.apply(opts());
    k.setBehavior({ forceFailure: "stall" });
    expect(await k.revert({ moduleName: "lp_sim", timeoutMs: 1000 })).toEqual({ changed: true });
    await k.apply(opts({ moduleName: "lp_sim" })).catch(() => undefined);
    k.setLivepatches([{ name: "lp_sim", enabled: true, transition: false }]);
    k.setBehavior({ failReverts: true });
    expect((await failure(k.revert({ moduleName: "lp_sim", timeoutMs: 1000 }))).message).toMatch(/re-enabled and stays applied/);
    expect(await k.listLivepatches()).toHaveLength(1);
    expect(k.getBehavior()).toEqual({ applyMs: 0, failureRate: 0, forceFailure: "stall", failReverts: true });
    expect(() => k.setBehavior({ failureRate: 2 })).toThrow(RangeError);
    expect(() => k.setBehavior({ applyMs: -1 })).toThrow(RangeError);
  });
});
