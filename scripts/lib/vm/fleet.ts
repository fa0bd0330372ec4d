// Guests for a list of Debian kernel releases: each gets its kernel, the shared base initramfs
// plus its own small archive (modules, identity, agent settings), and a VmGuest to boot.
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { VmGuest, type SpawnLike } from "./guest";
import { buildBaseInitramfs, buildGuestInitramfs } from "./initramfs";
import { fetchKernel } from "./kernel";

/** QEMU's user-mode network: what the guest sees as the host (and its gateway). */
export const GUEST_HOST_ADDRESS = "10.0.2.2";

/**
 * The console URL as the guest must use it: a console on the host's loopback (127.0.0.1, ::1,
 * localhost, 0.0.0.0) is reached at 10.0.2.2 on the same port; any other address is left alone
 * (QEMU forwards the guest's connections to it from the host).
 */
export function guestServerUrl(server: string): string {
  const u = new URL(server);
  const host = u.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host === "0.0.0.0" || host === "::1" || host === "::" || /^127\./.test(host)) {
    u.hostname = GUEST_HOST_ADDRESS;
  }
  return u.toString().replace(/\/+$/, "");
}

/** `vm-6-1-0-50-amd64` for 6.1.0-50-amd64: stable, so the same guest is recognisable across runs. */
export function guestHostname(release: string): string {
  return `vm-${release.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}`.slice(0, 63);
}

/** A stable machine id (32 hex digits, as /etc/machine-id) per guest hostname. */
export function guestMachineId(hostname: string): string {
  return crypto.createHash("sha256").update(`splicer-vm-guest:${hostname}`).digest("hex").slice(0, 32);
}

export function which(program: string): string | null {
  try {
    return execFileSync("sh", ["-c", `command -v "$1"`, "sh", program], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

/** What is missing on this machine to boot guests (empty: nothing). */
export function missingVmTools(): string[] {
  const missing: string[] = [];
  if (!which("qemu-system-x86_64")) missing.push("qemu-system-x86_64 (apt-get install qemu-system-x86)");
  if (!which("busybox")) missing.push("busybox (apt-get install busybox-static)");
  if (!which("apt-get") || !which("dpkg")) missing.push("apt-get and dpkg (a Debian machine)");
  return missing;
}

export interface PrepareGuestOptions {
  release: string;
  /** The console URL as seen from this machine; rewritten for the guest with guestServerUrl. */
  server: string;
  enrollToken?: string;
  /** Downloads, kernels and base initramfs, reused between runs (e.g. .data/vm-cache). */
  cacheDir: string;
  /** This guest's files (its initramfs with the token, serial logs); made 0700. */
  runDir: string;
  /** The agent bundle (agent/dist/splicer-agent.js). */
  agentBundle: string;
  /** Node binary copied into the guest (default: the one running this). */
  node?: string;
  busybox?: string;
  hostname?: string;
  memoryMb?: number;
  agentLogLevel?: "debug" | "info" | "warn" | "error";
  /** Modules the guest carries for `load-module <name>` (not loaded at boot). */
  extraModules?: string[];
  /** Heartbeat override for the agent (seconds). */
  heartbeatSec?: number;
  qemu?: string;
  spawn?: SpawnLike;
  progress?: (msg: string) => void;
}

export interface PreparedGuest {
  release: string;
  hostname: string;
  machineId: string;
  /** The server URL the agent in the guest uses. */
  guestServer: string;
  initrd: string;
  initrdBytes: number;
  guest: VmGuest;
}

/** Fetches, builds and writes what a guest needs; returns the (not yet booted) guest. */
export async function prepareGuest(o: PrepareGuestOptions): Promise<PreparedGuest> {
  const progress = (m: string) => o.progress?.(`${o.release}: ${m}`);
  const busybox = o.busybox ?? which("busybox");
  if (!busybox) throw new Error("busybox is not installed (apt-get install busybox-static)");
  if (!fs.existsSync(o.agentBundle)) throw new Error(`no agent bundle at ${o.agentBundle}: run \`npm run build:agent\` first`);
  const kernel = await fetchKernel({ release: o.release, cacheDir: o.cacheDir, extraModules: o.extraModules, progress });
  const base = await buildBaseInitramfs({ busybox, node: fs.realpathSync(o.node ?? process.execPath), agentBundle: o.agentBundle, cacheDir: o.cacheDir, progress });

  const hostname = o.hostname ?? guestHostname(o.release);
  const machineId = guestMachineId(hostname);
  const guestServer = guestServerUrl(o.server);
  fs.mkdirSync(o.runDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(o.runDir, 0o700);
  const own = path.join(o.runDir, "guest.cpio.gz");
  const agentEnv: Record<string, string> = { SPLICER_SERVER: guestServer, SPLICER_LOG_LEVEL: o.agentLogLevel ?? "info" };
  if (o.enrollToken) agentEnv.SPLICER_ENROLL_TOKEN = o.enrollToken;
  if (o.heartbeatSec) agentEnv.SPLICER_HEARTBEAT_SEC = String(o.heartbeatSec);
  await buildGuestInitramfs(busybox, { release: o.release, hostname, machineId, modules: kernel.modules, extraModules: Object.fromEntries((o.extraModules ?? []).map((m) => [m, kernel.extra[m] ?? []])), agentEnv }, own);
  // One file for -initrd: the shared archive, then this guest's (the kernel unpacks both).
  const initrd = path.join(o.runDir, "initrd.gz");
  fs.copyFileSync(base, initrd);
  fs.appendFileSync(initrd, fs.readFileSync(own));
  fs.rmSync(own);

  const guest = new VmGuest({ name: hostname, kernel: kernel.vmlinuz, initrd, runDir: o.runDir, nic: kernel.nic, memoryMb: o.memoryMb, qemu: o.qemu, spawn: o.spawn, log: o.progress });
  return { release: o.release, hostname, machineId, guestServer, initrd, initrdBytes: fs.statSync(initrd).size, guest };
}
