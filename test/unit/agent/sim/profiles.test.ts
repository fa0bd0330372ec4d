import { describe, expect, it } from "vitest";
import { InventorySchema } from "../../../../agent/protocol";
import { hostProfile } from "../../../../agent/sim/profiles";

const NOW = Date.UTC(2026, 10, 26);

describe("hostProfile", () => {
  it("is deterministic in seed and index, and different across them", () => {
    expect(hostProfile("s", 5, NOW)).toEqual(hostProfile("s", 5, NOW));
    expect(hostProfile("s", 5, NOW).machineId).not.toBe(hostProfile("s", 6, NOW).machineId);
    expect(hostProfile("s", 5, NOW).machineId).not.toBe(hostProfile("t", 5, NOW).machineId);
  });

  it("keeps boot time stable across simulator restarts within a week (uptime keeps growing)", () => {
    expect(hostProfile("s", 1, NOW).bootedAtMs).toBe(hostProfile("s", 1, NOW + 3_600_000).bootedAtMs);
    expect(hostProfile("s", 1, NOW).bootedAtMs).toBeLessThan(NOW);
  });

  it("produces valid inventory facts with realistic hostnames and matching kernels", () => {
    for (let i = 0; i < 500; i++) {
      const { index: _i, bootedAtMs, ...p } = hostProfile("mix", i, NOW);
      const inv = { ...p, uptimeSec: Math.floor((NOW - bootedAtMs) / 1000), agentVersion: "sim" };
      expect(InventorySchema.safeParse(inv).success).toBe(true);
      expect(p.hostname).toMatch(/^[a-z]+-(prod|staging|dev)-\d{3,}\.[a-z]+\d$/);
      expect(p.machineId).toMatch(/^[0-9a-f]{32}$/);
      const r = p.kernelRelease;
      if (p.distro.id === "debian" && p.distro.version === "12") expect(r).toMatch(/^6\.1\.0-(47|50|53|54|55|56)-(amd64|cloud-amd64)$/);
      if (p.distro.id === "ubuntu") expect(r).toMatch(p.distro.version === "22.04" ? /^5\.15\.0-1\d\d-generic$/ : /^6\.8\.0-\d+-generic$/);
      if (p.distro.id === "rhel" || p.distro.id === "rocky") expect(r).toMatch(/^5\.14\.0-427\.\d+\.1\.el9_4\.x86_64$/);
    }
  });

  it("has roughly the intended distro mix and some hosts with a loaded livepatch", () => {
    const n = 2000;
    const count = (pred: (i: number) => boolean) => Array.from({ length: n }, (_, i) => i).filter(pred).length / n;
    const ps = Array.from({ length: n }, (_, i) => hostProfile("mix", i, NOW));
    const share = (pred: (p: (typeof ps)[number]) => boolean) => count((i) => pred(ps[i]!));
    expect(share((p) => p.distro.id === "debian" && p.distro.version === "12")).toBeCloseTo(0.45, 1);
    expect(share((p) => p.distro.id === "ubuntu")).toBeCloseTo(0.35, 1);
    expect(share((p) => p.distro.id === "rhel" || p.distro.id === "rocky")).toBeCloseTo(0.15, 1);
    const withPatch = share((p) => p.livepatches.length === 1);
    expect(withPatch).toBeGreaterThan(0.1);
    expect(withPatch).toBeLessThan(0.2);
    expect(new Set(ps.map((p) => p.hostname)).size).toBe(n);
  });

  it("gives any fleet of 20 at least 4 distinct kernel releases", () => {
    for (let seed = 0; seed < 300; seed++) {
      const releases = new Set(Array.from({ length: 20 }, (_, i) => hostProfile(String(seed), i, NOW).kernelRelease));
      expect(releases.size, `seed ${seed}`).toBeGreaterThanOrEqual(4);
    }
  });
});
