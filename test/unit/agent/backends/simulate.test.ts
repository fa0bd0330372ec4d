import { describe, expect, it } from "vitest";
import { SimulatedKernel } from "../../../../agent/backends/simulate";

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
