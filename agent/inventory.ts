// What the agent reports about its host. Facts come from /proc, /etc and `os`, all injectable so
// tests run against a fake tree; livepatch state comes from the kernel backend.
import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as nodeOs from "node:os";
import * as path from "node:path";
import { InventorySchema, toStorableText, type Inventory, type ReloadReport } from "./protocol";
import type { HostFacts, KernelBackend } from "./backends/types";
import { loadOrCreateMachineId } from "./state";
import { AGENT_VERSION } from "./version";

/** The parts of node:os the inventory uses. */
export interface OsLike {
  hostname(): string;
  arch(): string;
  machine?(): string;
  cpus(): unknown[];
  totalmem(): number;
  release(): string;
  version(): string;
  uptime(): number;
}

export interface HostFactsSource {
  read(): Promise<HostFacts>;
  uptimeSec(): Promise<number>;
}

export interface SystemFactsOptions {
  procRoot?: string;
  etcRoot?: string;
  /** Where os-release lives when /etc has none (the spec's fallback). */
  usrLibRoot?: string;
  /** D-Bus's copy of the machine id, the fallback when /etc/machine-id is missing. */
  dbusMachineIdPath?: string;
  /** Where a generated machine id is kept when the host has none. */
  stateDir?: string;
  os?: OsLike;
}

// Node's names for architectures differ from the kernel's (`uname -m`), which is what kernel
// releases and package names use.
const NODE_ARCH_TO_UNAME: Record<string, string> = {
  x64: "x86_64",
  arm64: "aarch64",
  ia32: "i686",
  arm: "armv7l",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loongarch64",
};

async function readText(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, "utf8");
  } catch {
    return null;
  }
}

/**
 * Parses os-release(5): KEY=VALUE lines, values optionally in double quotes (with \ escapes for
 * `"`, `\`, `$` and backtick) or single quotes (literal), `#` comments.
 */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    out[m[1]!] = unquoteShellValue(m[2]!);
  }
  return out;
}

function unquoteShellValue(raw: string): string {
  let out = "";
  let i = 0;
  while (i < raw.length) {
    const c = raw[i]!;
    if (c === '"') {
      i++;
      while (i < raw.length && raw[i] !== '"') {
        if (raw[i] === "\\" && i + 1 < raw.length && '"\\$`'.includes(raw[i + 1]!)) i++;
        out += raw[i];
        i++;
      }
      i++; // closing quote
    } else if (c === "'") {
      const end = raw.indexOf("'", i + 1);
      const stop = end === -1 ? raw.length : end;
      out += raw.slice(i + 1, stop);
      i = stop + 1;
    } else if (c === "\\" && i + 1 < raw.length) {
      out += raw[i + 1];
      i += 2;
    } else if (/\s/.test(c) || c === "#") {
      break; // unquoted whitespace ends the value; the rest is a trailing comment
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function clip(s: string, max: number): string {
  // A fact may hold a NUL, and a cut may split a surrogate pair: the console refuses both.
  return toStorableText(s.length > max ? s.slice(0, max) : s);
}

/** Host facts read from the real (or a fake) /proc, /etc and `os`. */
export class SystemFacts implements HostFactsSource {
  private readonly procRoot: string;
  private readonly etcRoot: string;
  private readonly usrLibRoot: string;
  private readonly dbusMachineIdPath: string;
  private readonly stateDir: string | undefined;
  private readonly os: OsLike;
  private machineId: string | undefined;

  constructor(opts: SystemFactsOptions = {}) {
    this.procRoot = opts.procRoot ?? "/proc";
    this.etcRoot = opts.etcRoot ?? "/etc";
    this.usrLibRoot = opts.usrLibRoot ?? "/usr/lib";
    this.dbusMachineIdPath = opts.dbusMachineIdPath ?? "/var/lib/dbus/machine-id";
    this.stateDir = opts.stateDir;
    this.os = opts.os ?? nodeOs;
  }

  async read(): Promise<HostFacts> {
    const [hostname, machineId, bootId, release, version, distro, uptimeSec, memoryBytes] = await Promise.all([
      this.proc("sys/kernel/hostname"),
      this.readMachineId(),
      this.proc("sys/kernel/random/boot_id"),
      this.proc("sys/kernel/osrelease"),
      this.proc("sys/kernel/version"),
      this.readDistro(),
      this.uptimeSec(),
      this.readMemTotal(),
    ]);
    const arch = this.os.machine?.() || NODE_ARCH_TO_UNAME[this.os.arch()] || this.os.arch();
    return {
      // The kernel's nodename (what `uname -n` and os.hostname() return), read via the proc root
      // so a fake tree can set it.
      hostname: clip(hostname?.trim() || this.os.hostname() || "localhost", 253),
      machineId,
      bootId: clip(bootId?.trim() ?? "", 64),
      kernelRelease: clip(release?.trim() || this.os.release(), 128),
      kernelVersion: clip(version?.trim() || this.os.version(), 256),
      distro,
      arch: clip(arch, 32),
      uptimeSec,
      cpuCount: Math.max(1, this.os.cpus().length),
      memoryBytes,
    };
  }

  async uptimeSec(): Promise<number> {
    const text = await this.proc("uptime");
    const secs = text ? Number.parseFloat(text.split(/\s+/)[0] ?? "") : NaN;
    const value = Number.isFinite(secs) ? secs : this.os.uptime();
    return Math.min(2 ** 31 - 1, Math.max(0, Math.floor(value)));
  }

  private proc(rel: string): Promise<string | null> {
    return readText(path.join(this.procRoot, rel));
  }

  private async readMachineId(): Promise<string> {
    // The machine id never changes while the agent runs; read (or generate) it once.
    if (this.machineId) return this.machineId;
    for (const file of [path.join(this.etcRoot, "machine-id"), this.dbusMachineIdPath]) {
      const id = (await readText(file))?.trim();
      // systemd writes "uninitialized" during first boot.
      if (id && id !== "uninitialized") return (this.machineId = clip(id, 64));
    }
    if (this.stateDir) return (this.machineId = await loadOrCreateMachineId(this.stateDir));
    // No state dir to persist a generated id: derive one from the hostname, stable enough.
    return (this.machineId = createHash("sha256").update(`splicer:${this.os.hostname()}`).digest("hex").slice(0, 32));
  }

  private async readDistro(): Promise<HostFacts["distro"]> {
    const text =
      (await readText(path.join(this.etcRoot, "os-release"))) ??
      (await readText(path.join(this.usrLibRoot, "os-release")));
    const kv = text ? parseOsRelease(text) : {};
    return {
      // os-release(5): ID defaults to "linux", NAME to "Linux".
      id: clip(kv.ID || "linux", 64),
      name: clip(kv.NAME || kv.PRETTY_NAME || "Linux", 128),
      version: clip(kv.VERSION_ID ?? "", 64),
    };
  }

  private async readMemTotal(): Promise<number> {
    const text = await this.proc("meminfo");
    const m = text ? /^MemTotal:\s+(\d+)\s*kB/m.exec(text) : null;
    return m ? Number(m[1]) * 1024 : this.os.totalmem();
  }
}

export interface InventoryCollectorOptions {
  backend: KernelBackend;
  /** The real machine's facts; null when the backend provides all of them (simulated hosts). */
  host: HostFactsSource | null;
  agentVersion?: string;
  /** The report of the reload at this boot (agent/boot/reload.ts), sent with the inventory. */
  reload?: () => Promise<ReloadReport | null>;
}

export class InventoryCollector {
  /** The kernel this inventory reports on; jobs change it through the same backend. */
  readonly backend: KernelBackend;
  private readonly host: HostFactsSource | null;
  readonly agentVersion: string;
  private readonly reload: () => Promise<ReloadReport | null>;

  constructor(opts: InventoryCollectorOptions) {
    this.backend = opts.backend;
    this.host = opts.host;
    this.agentVersion = opts.agentVersion ?? AGENT_VERSION;
    this.reload = opts.reload ?? (async () => null);
  }

  async collect(): Promise<Inventory> {
    const [facts, livepatches, reload] = await Promise.all([
      this.host ? this.host.read() : Promise.resolve({}),
      this.backend.listLivepatches(),
      this.reload(),
    ]);
    const inv = { ...facts, ...this.backend.inventoryOverrides(), livepatches, agentVersion: this.agentVersion, ...(reload ? { reload } : {}) };
    // Validate here so a bad fact is reported by the agent, not refused by the console.
    return InventorySchema.parse(inv);
  }

  /** Which boot of which kernel this is: what kept patches are matched against. */
  async bootFacts(): Promise<{ bootId: string; kernelRelease: string; kernelVersion: string }> {
    const facts = { ...(this.host ? await this.host.read() : {}), ...this.backend.inventoryOverrides() };
    if (facts.kernelRelease === undefined) throw new Error("no kernel release: the backend has none and there are no host facts");
    return { bootId: facts.bootId ?? "", kernelRelease: facts.kernelRelease, kernelVersion: facts.kernelVersion ?? "" };
  }

  /** The running kernel's release (`uname -r`), without collecting the whole inventory. */
  async kernelRelease(): Promise<string> {
    const o = this.backend.inventoryOverrides().kernelRelease;
    if (o !== undefined) return o;
    if (!this.host) throw new Error("no kernel release: the backend has none and there are no host facts");
    return (await this.host.read()).kernelRelease;
  }

  async uptimeSec(): Promise<number> {
    const o = this.backend.inventoryOverrides().uptimeSec;
    if (o !== undefined) return o;
    return this.host ? this.host.uptimeSec() : 0;
  }
}

/** True when two inventories differ only in uptime (which changes every second). */
export function sameInventory(a: Inventory, b: Inventory): boolean {
  return canonical({ ...a, uptimeSec: 0 }) === canonical({ ...b, uptimeSec: 0 });
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === "object" && !Array.isArray(val)
      ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : val,
  );
}
