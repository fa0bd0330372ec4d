// Builds a fake /proc, /etc and /sys tree in a temp dir: the lowest layer the agent reads.
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import type { OsLike } from "../../../agent/inventory";

export interface FakeHostTree {
  root: string;
  procRoot: string;
  etcRoot: string;
  sysRoot: string;
  usrLibRoot: string;
  stateDir: string;
  write(rel: string, content: string): Promise<void>;
  remove(rel: string): Promise<void>;
  addLivepatch(name: string, enabled: 0 | 1, transition?: 0 | 1 | null): Promise<void>;
  cleanup(): Promise<void>;
}

export async function makeFakeHost(): Promise<FakeHostTree> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "splicer-fakehost-"));
  const write = async (rel: string, content: string) => {
    const file = path.join(root, rel);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, content);
  };
  const tree: FakeHostTree = {
    root,
    procRoot: path.join(root, "proc"),
    etcRoot: path.join(root, "etc"),
    sysRoot: path.join(root, "sys"),
    usrLibRoot: path.join(root, "usr/lib"),
    stateDir: path.join(root, "state"),
    write,
    remove: (rel) => fs.rm(path.join(root, rel), { recursive: true, force: true }),
    addLivepatch: async (name, enabled, transition = 0) => {
      await write(`sys/kernel/livepatch/${name}/enabled`, `${enabled}\n`);
      if (transition !== null) await write(`sys/kernel/livepatch/${name}/transition`, `${transition}\n`);
    },
    cleanup: () => fs.rm(root, { recursive: true, force: true }),
  };
  await write("proc/sys/kernel/random/boot_id", "5f2a1c3e-8b7d-4e9f-a0b1-c2d3e4f5a6b7\n");
  await write("proc/sys/kernel/osrelease", "6.1.0-50-amd64\n");
  await write("proc/sys/kernel/version", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.164-1 (2025-10-01)\n");
  await write("proc/uptime", "123456.78 234567.89\n");
  await write("proc/meminfo", "MemTotal:       16318480 kB\nMemFree:         1234567 kB\n");
  await write("etc/machine-id", "0123456789abcdef0123456789abcdef\n");
  await write(
    "etc/os-release",
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nID=debian\n',
  );
  return tree;
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
