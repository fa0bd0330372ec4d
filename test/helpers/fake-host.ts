// A fake host's /proc, /etc and /sys trees, as the agent's inventory and the livepatch backend
// read them: the lowest layer we can fake, so the agent's real code runs above it. The same tree
// serves the agent's unit tests (in process) and real agent processes against a real console.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SimulatedKernel, type SimulatedKernelOptions } from "@/agent/backends/simulate";
import type { OsLike } from "@/agent/inventory";

export interface LivepatchState {
  enabled: boolean;
  /** null: no `transition` file, as on kernels before livepatch transitions. */
  transition?: boolean | null;
}

export interface FakeHost {
  root: string;
  procRoot: string;
  etcRoot: string;
  sysRoot: string;
  usrLibRoot: string;
  /** An agent state directory inside the tree, for tests that run the agent on it. */
  stateDir: string;
  /** The agent's command-line flags that point it at this tree. */
  args: string[];
  /** Writes a file, `rel` to the tree's root (e.g. "proc/sys/kernel/hostname"). */
  write(rel: string, content: string): void;
  remove(rel: string): void;
  /** Adds, changes or (with null) removes a livepatch in /sys/kernel/livepatch. */
  setLivepatch(name: string, state: LivepatchState | null): void;
  setBootId(id: string): void;
  cleanup(): void;
}

export interface FakeHostOptions {
  kernelRelease?: string;
  machineId?: string;
  /** Written to /proc and /etc when given; without it the agent falls back to os.hostname(). */
  hostname?: string;
  livepatches?: Record<string, LivepatchState>;
}

export function makeFakeHost(opts: FakeHostOptions = {}): FakeHost {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-fakehost-"));
  const procRoot = path.join(root, "proc");
  const etcRoot = path.join(root, "etc");
  const sysRoot = path.join(root, "sys");
  const write = (rel: string, content: string) => {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  };
  const host: FakeHost = {
    root,
    procRoot,
    etcRoot,
    sysRoot,
    usrLibRoot: path.join(root, "usr/lib"),
    stateDir: path.join(root, "state"),
    args: ["--proc-root", procRoot, "--etc-root", etcRoot, "--sysfs-root", sysRoot],
    write,
    remove: (rel) => fs.rmSync(path.join(root, rel), { recursive: true, force: true }),
    setLivepatch(name, state) {
      const dir = `sys/kernel/livepatch/${name}`;
      if (!state) return host.remove(dir);
      write(`${dir}/enabled`, state.enabled ? "1\n" : "0\n");
      if (state.transition !== null) write(`${dir}/transition`, state.transition ? "1\n" : "0\n");
    },
    setBootId: (id) => write("proc/sys/kernel/random/boot_id", `${id}\n`),
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
  write("proc/sys/kernel/random/boot_id", "5f2a1c3e-8b7d-4e9f-a0b1-c2d3e4f5a6b7\n");
  write("proc/sys/kernel/osrelease", `${opts.kernelRelease ?? "6.1.0-50-amd64"}\n`);
  write("proc/sys/kernel/version", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.164-1 (2025-10-01)\n");
  write("proc/uptime", "123456.78 234567.89\n");
  write("proc/meminfo", "MemTotal:       16318480 kB\nMemFree:         1234567 kB\n");
  write("etc/machine-id", `${opts.machineId ?? "0123456789abcdef0123456789abcdef"}\n`);
  write("etc/os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nID=debian\n');
  if (opts.hostname !== undefined) {
    write("proc/sys/kernel/hostname", `${opts.hostname}\n`);
    write("etc/hostname", `${opts.hostname}\n`);
  }
  for (const [name, s] of Object.entries(opts.livepatches ?? {})) host.setLivepatch(name, s);
  return host;
}

/** An `os` stand-in whose answers differ from the fake tree, so tests can tell which was used. */
export function fakeOs(overrides: Partial<OsLike> = {}): OsLike {
  return {
    hostname: () => "web-prod-017.fra1",
    arch: () => "x64",
    machine: () => "x86_64",
    cpus: () => new Array(8).fill({}),
    totalmem: () => 999,
    release: () => "os-release-fallback",
    version: () => "os-version-fallback",
    uptime: () => 42,
    ...overrides,
  };
}

/** The same host in memory (the simulate backend), for agent tests that need no files. */
export function simulatedKernel(over: SimulatedKernelOptions = {}): SimulatedKernel {
  return new SimulatedKernel({
    hostname: "web-prod-017.fra1",
    machineId: "0123456789abcdef0123456789abcdef",
    bootId: "5f2a1c3e-8b7d-4e9f-a0b1-c2d3e4f5a6b7",
    kernelRelease: "6.1.0-50-amd64",
    kernelVersion: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.164-1",
    distro: { id: "debian", name: "Debian GNU/Linux", version: "12" },
    arch: "x86_64",
    cpuCount: 4,
    memoryBytes: 8 * 1024 ** 3,
    bootedAtMs: Date.now() - 3_600_000,
    ...over,
  });
}
