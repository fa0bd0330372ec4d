import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LivepatchBackend } from "../../../agent/backends/livepatch";
import { SimulatedKernel } from "../../../agent/backends/simulate";
import { InventoryCollector, SystemFacts, parseOsRelease, sameInventory } from "../../../agent/inventory";
import { InventorySchema } from "../../../agent/protocol";
import { fakeOs, makeFakeHost, type FakeHost } from "../../helpers/fake-host";

let host: FakeHost;
beforeEach(async () => {
  host = makeFakeHost();
});
afterEach(async () => {
  host.cleanup();
});

function facts(overrides: Partial<ConstructorParameters<typeof SystemFacts>[0]> = {}) {
  return new SystemFacts({
    procRoot: host.procRoot,
    etcRoot: host.etcRoot,
    usrLibRoot: host.usrLibRoot,
    dbusMachineIdPath: `${host.root}/var/lib/dbus/machine-id`,
    stateDir: host.stateDir,
    os: fakeOs(),
    ...overrides,
  });
}

function collector(f = facts()) {
  return new InventoryCollector({ backend: new LivepatchBackend({ sysRoot: host.sysRoot }), host: f, agentVersion: "1.2.3" });
}

describe("inventory from a fake /proc, /etc and sysfs", () => {
  it("reads every field from the tree", async () => {
    host.setLivepatch("livepatch_cve_2024_1086", { enabled: true });
    host.setLivepatch("kpatch_old", { enabled: false });
    host.setLivepatch("lp_switching", { enabled: true, transition: true });
    const inv = await collector().collect();
    expect(inv).toEqual({
      hostname: "web-prod-017.fra1",
      machineId: "0123456789abcdef0123456789abcdef",
      bootId: "5f2a1c3e-8b7d-4e9f-a0b1-c2d3e4f5a6b7",
      kernelRelease: "6.1.0-50-amd64",
      kernelVersion: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.164-1 (2025-10-01)",
      distro: { id: "debian", name: "Debian GNU/Linux", version: "12" },
      arch: "x86_64",
      uptimeSec: 123456,
      cpuCount: 8,
      memoryBytes: 16318480 * 1024,
      livepatches: [
        { name: "kpatch_old", enabled: false, transition: false },
        { name: "livepatch_cve_2024_1086", enabled: true, transition: false },
        { name: "lp_switching", enabled: true, transition: true },
      ],
      agentVersion: "1.2.3",
    });
    expect(InventorySchema.safeParse(inv).success).toBe(true);
  });

  it("takes the hostname from /proc/sys/kernel/hostname when present, else from os", async () => {
    host.write("proc/sys/kernel/hostname", "db-staging-03.ams2\n");
    expect((await collector().collect()).hostname).toBe("db-staging-03.ams2");
  });

  it("reports no livepatches when /sys/kernel/livepatch does not exist", async () => {
    expect((await collector().collect()).livepatches).toEqual([]);
  });

  it("falls back to os for kernel release, version, memory and uptime when /proc lacks them", async () => {
    host.remove("proc");
    const inv = await collector().collect();
    expect(inv.kernelRelease).toBe("os-release-fallback");
    expect(inv.kernelVersion).toBe("os-version-fallback");
    expect(inv.memoryBytes).toBe(999);
    expect(inv.uptimeSec).toBe(42);
    expect(inv.bootId).toBe("");
  });

  it("maps Node's arch names to the kernel's when os.machine() is unavailable", async () => {
    const inv = await collector(facts({ os: fakeOs({ machine: undefined, arch: () => "arm64" }) })).collect();
    expect(inv.arch).toBe("aarch64");
  });

  it("falls back to /usr/lib/os-release, then to os-release(5) defaults", async () => {
    host.remove("etc/os-release");
    host.write("usr/lib/os-release", "ID=rocky\nNAME='Rocky Linux'\nVERSION_ID=9.4\n");
    expect((await collector().collect()).distro).toEqual({ id: "rocky", name: "Rocky Linux", version: "9.4" });
    host.remove("usr/lib/os-release");
    expect((await collector().collect()).distro).toEqual({ id: "linux", name: "Linux", version: "" });
  });

  it("uses PRETTY_NAME when NAME is missing", async () => {
    host.write("etc/os-release", 'ID=arch\nPRETTY_NAME="Arch Linux"\n');
    expect((await collector().collect()).distro).toEqual({ id: "arch", name: "Arch Linux", version: "" });
  });

  describe("machine id", () => {
    it("falls back to D-Bus's copy", async () => {
      host.remove("etc/machine-id");
      host.write("var/lib/dbus/machine-id", "fedcba9876543210fedcba9876543210\n");
      expect((await collector().collect()).machineId).toBe("fedcba9876543210fedcba9876543210");
    });

    it("treats systemd's 'uninitialized' as missing, and generates a stable id in the state dir", async () => {
      host.write("etc/machine-id", "uninitialized\n");
      const first = (await collector().collect()).machineId;
      expect(first).toMatch(/^[0-9a-f]{32}$/);
      // A new collector (agent restart) gets the same id from the state dir.
      expect((await collector().collect()).machineId).toBe(first);
    });
  });

  it("reports a fact holding text Postgres cannot store (a NUL, half a surrogate pair) with U+FFFD in its place", async () => {
    host.write("proc/sys/kernel/hostname", "web\u0000-01\n");
    host.write("etc/os-release", `NAME="Debian ${"x".repeat(120)}😀tail"\nID=debian\n`);
    const inv = await collector().collect();
    expect(inv.hostname).toBe("web\uFFFD-01");
    // Cut at 128 characters, between the two halves of the emoji.
    expect(inv.distro.name).toBe(`Debian ${"x".repeat(120)}\uFFFD`);
    expect(InventorySchema.safeParse(inv).success).toBe(true);
  });

  it("validates what it collects, so a bad fact fails in the agent rather than at the console", async () => {
    host.setLivepatch("ok_patch", { enabled: true });
    const bad = new InventoryCollector({
      backend: new SimulatedKernel({ kernelRelease: "" }),
      host: facts(),
      agentVersion: "1",
    });
    await expect(bad.collect()).rejects.toThrow();
  });
});

describe("parseOsRelease", () => {
  it("handles double quotes with escapes, single quotes, bare values and comments", () => {
    const kv = parseOsRelease(
      [
        "# comment line",
        'NAME="Ubuntu"',
        "VERSION_ID='24.04'",
        "ID=ubuntu",
        'PRETTY_NAME="Ubuntu 24.04.1 LTS \\"Noble\\" \\\\ \\$HOME"',
        "ID_LIKE=debian # trailing comment",
        'EMPTY=""',
        "not a kv line",
        "",
        'HOME_URL="https://www.ubuntu.com/"',
      ].join("\n"),
    );
    expect(kv).toEqual({
      NAME: "Ubuntu",
      VERSION_ID: "24.04",
      ID: "ubuntu",
      PRETTY_NAME: 'Ubuntu 24.04.1 LTS "Noble" \\ $HOME',
      ID_LIKE: "debian",
      EMPTY: "",
      HOME_URL: "https://www.ubuntu.com/",
    });
  });

  it("accepts CRLF line endings", () => {
    expect(parseOsRelease('ID=rhel\r\nVERSION_ID="9.4"\r\n')).toEqual({ ID: "rhel", VERSION_ID: "9.4" });
  });
});

describe("sameInventory", () => {
  it("ignores uptime but notices any other change", async () => {
    const a = await collector().collect();
    expect(sameInventory(a, { ...a, uptimeSec: a.uptimeSec + 100 })).toBe(true);
    expect(sameInventory(a, { ...a, livepatches: [{ name: "x", enabled: true, transition: false }] })).toBe(false);
    expect(sameInventory(a, { ...a, distro: { ...a.distro, version: "13" } })).toBe(false);
  });
});

describe("uptimeSec", () => {
  it("comes from /proc/uptime for the real kernel and from the pretend kernel when simulated", async () => {
    expect(await collector().uptimeSec()).toBe(123456);
    const sim = new InventoryCollector({
      backend: new SimulatedKernel({ bootedAtMs: 1_000_000, timers: { now: () => 1_000_000 + 90_500 } }),
      host: facts(),
    });
    expect(await sim.uptimeSec()).toBe(90);
  });
});
