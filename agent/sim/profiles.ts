// Deterministic pretend hosts for the fleet simulator: the same seed and index always give the
// same identity (so a restarted simulator reconnects as the same hosts), with a distro and kernel
// mix like a real fleet's.
import { createHash } from "node:crypto";
import type { Livepatch } from "../protocol";
import type { HostFacts } from "../backends/types";

export interface HostProfile extends Omit<HostFacts, "uptimeSec"> {
  index: number;
  bootedAtMs: number;
  livepatches: Livepatch[];
}

/** A small fast PRNG (mulberry32); good enough for picking pretend hosts. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashHex(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

/** Real fleets lag behind in a long tail: newest release about half the time, each older one less. */
function recent<T>(rng: () => number, items: readonly T[]): T {
  let i = items.length - 1;
  while (i > 0 && rng() < 0.45) i--;
  return items[i]!;
}

function weighted<T>(u: number, items: readonly (readonly [T, number])[]): T {
  const total = items.reduce((s, [, w]) => s + w, 0);
  let x = u * total;
  for (const [item, w] of items) {
    if (x < w) return item;
    x -= w;
  }
  return items[items.length - 1]![0];
}

interface KernelChoice {
  release: string;
  version: string;
}

interface DistroFamily {
  distro: HostFacts["distro"];
  kernels: (rng: () => number) => KernelChoice;
  livepatchName: (release: string) => string;
}

// Debian's ABI number → upstream stable version, for a plausible `uname -v`.
const DEBIAN_ABI: Record<number, string> = { 47: "6.1.158", 50: "6.1.164", 53: "6.1.170", 54: "6.1.172", 55: "6.1.183", 56: "6.1.192" };

const slug = (s: string) => s.replace(/[^A-Za-z0-9]+/g, "_");

const FAMILIES: Record<string, DistroFamily> = {
  debian12: {
    distro: { id: "debian", name: "Debian GNU/Linux", version: "12" },
    kernels: (rng) => {
      const abi = recent(rng, [47, 50, 53, 54, 55, 56]);
      const flavour = rng() < 0.4 ? "cloud-amd64" : "amd64";
      return { release: `6.1.0-${abi}-${flavour}`, version: `#1 SMP PREEMPT_DYNAMIC Debian ${DEBIAN_ABI[abi]}-1 (2025-10-0${1 + (abi % 9)})` };
    },
    livepatchName: () => "livepatch_cve_2024_1086",
  },
  ubuntu2204: {
    distro: { id: "ubuntu", name: "Ubuntu", version: "22.04" },
    kernels: (rng) => {
      const abi = recent(rng, [105, 113, 119, 125, 131]);
      return { release: `5.15.0-${abi}-generic`, version: `#${abi + 10}-Ubuntu SMP Tue Sep 10 12:33:08 UTC 2024` };
    },
    livepatchName: (r) => `lkp_Ubuntu_${slug(r)}_101`,
  },
  ubuntu2404: {
    distro: { id: "ubuntu", name: "Ubuntu", version: "24.04" },
    kernels: (rng) => {
      const abi = recent(rng, [31, 45, 51, 57, 60]);
      return { release: `6.8.0-${abi}-generic`, version: `#${abi}-Ubuntu SMP PREEMPT_DYNAMIC Fri Mar 14 11:20:02 UTC 2025` };
    },
    livepatchName: (r) => `lkp_Ubuntu_${slug(r)}_102`,
  },
  rhel9: {
    distro: { id: "rhel", name: "Red Hat Enterprise Linux", version: "9.4" },
    kernels: (rng) => {
      const z = recent(rng, [13, 18, 22, 31, 42]);
      return { release: `5.14.0-427.${z}.1.el9_4.x86_64`, version: "#1 SMP PREEMPT_DYNAMIC Wed Oct 2 06:40:23 EDT 2024" };
    },
    livepatchName: (r) => `kpatch_${slug(r.replace(/\.el9.*$/, ""))}_1_1`,
  },
  rocky9: {
    distro: { id: "rocky", name: "Rocky Linux", version: "9.4" },
    kernels: (rng) => {
      const z = recent(rng, [13, 22, 31, 42]);
      return { release: `5.14.0-427.${z}.1.el9_4.x86_64`, version: "#1 SMP PREEMPT_DYNAMIC Tue Sep 24 15:13:03 UTC 2024" };
    },
    livepatchName: (r) => `kpatch_${slug(r.replace(/\.el9.*$/, ""))}_1_1`,
  },
  amzn2023: {
    distro: { id: "amzn", name: "Amazon Linux", version: "2023" },
    kernels: (rng) => {
      const v = recent(rng, ["6.1.112-122.189", "6.1.119-129.201", "6.1.128-136.201"]);
      return { release: `${v}.amzn2023.x86_64`, version: "#1 SMP PREEMPT_DYNAMIC Tue Jan 14 22:24:27 UTC 2025" };
    },
    livepatchName: (r) => `livepatch_${slug(r)}`,
  },
  debian11: {
    distro: { id: "debian", name: "Debian GNU/Linux", version: "11" },
    kernels: (rng) => {
      const abi = recent(rng, [28, 30, 32]);
      return { release: `5.10.0-${abi}-amd64`, version: `#1 SMP Debian 5.10.${200 + abi}-1 (2024-09-15)` };
    },
    livepatchName: () => "livepatch_cve_2024_1086",
  },
};

// Debian 12 ~45 %, Ubuntu ~35 %, RHEL/Rocky 9 ~15 %, others ~5 %.
const FAMILY_WEIGHTS = [
  ["debian12", 45],
  ["ubuntu2204", 20],
  ["ubuntu2404", 15],
  ["rhel9", 9],
  ["rocky9", 6],
  ["amzn2023", 3],
  ["debian11", 2],
] as const;

const ROLES = ["web", "api", "db", "cache", "worker", "lb", "queue", "search", "batch"] as const;
const ENVS = [
  ["prod", 60],
  ["staging", 25],
  ["dev", 15],
] as const;
const REGIONS = ["fra1", "ams2", "nyc3", "sfo2", "lon1", "sgp1"] as const;
const CPUS = [
  [2, 20],
  [4, 30],
  [8, 25],
  [16, 15],
  [32, 7],
  [64, 3],
] as const;

const GOLDEN = 0.6180339887498949;
const DAY_MS = 86_400_000;

export function hostProfile(seed: string, index: number, nowMs: number = Date.now()): HostProfile {
  const h = hashHex(`splicer-fleet-sim:${seed}:${index}`);
  const rng = mulberry32(Number.parseInt(h.slice(0, 8), 16));
  // The distro comes from a low-discrepancy sequence rather than the PRNG, so even a small fleet
  // has every big family in about the right proportion (and several kernel releases).
  const offset = Number.parseInt(hashHex(`offset:${seed}`).slice(0, 8), 16) / 2 ** 32;
  const family = FAMILIES[weighted((offset + index * GOLDEN) % 1, FAMILY_WEIGHTS)]!;
  const kernel = family.kernels(rng);
  const env = weighted(rng(), ENVS);
  const role = pick(rng, ROLES);
  const region = pick(rng, REGIONS);
  const cpuCount = weighted(rng(), CPUS);
  const memoryBytes = cpuCount * pick(rng, [2, 4, 8]) * 1024 ** 3;
  // Boot times hang off a weekly anchor: stable across simulator restarts, uptime still grows.
  const anchor = Math.floor(nowMs / (7 * DAY_MS)) * 7 * DAY_MS;
  const bootedAtMs = anchor - Math.floor(rng() * 180 * DAY_MS) - DAY_MS;
  const livepatches: Livepatch[] =
    rng() < 0.15 ? [{ name: family.livepatchName(kernel.release), enabled: true, transition: rng() < 0.05 }] : [];
  const b = hashHex(`boot:${seed}:${index}`);
  return {
    index,
    hostname: `${role}-${env}-${String(index + 1).padStart(3, "0")}.${region}`,
    machineId: h.slice(8, 40),
    bootId: `${b.slice(0, 8)}-${b.slice(8, 12)}-4${b.slice(13, 16)}-a${b.slice(17, 20)}-${b.slice(20, 32)}`,
    kernelRelease: kernel.release,
    kernelVersion: kernel.version,
    distro: { ...family.distro },
    arch: "x86_64",
    cpuCount,
    memoryBytes,
    bootedAtMs,
    livepatches,
  };
}
