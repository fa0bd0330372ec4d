// A Debian kernel release for a guest: its vmlinuz and the kernel modules the guest must load
// itself (the NIC driver and what it depends on), taken from `linux-image-<release>-unsigned`.
// The NIC is QEMU's e1000 where the kernel has its driver (the amd64 and rt flavours), else
// virtio-net (the cloud flavour has no e1000 driver).
// The package is fetched with `apt-get download` (no root lock needed) and unpacked with `dpkg -x`;
// only what a guest needs is kept, under <cache>/kernels/<release>/, so later runs do no work.
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** QEMU NIC models, each with the kernel modules that drive it. */
export const NICS = {
  e1000: ["e1000"],
  "virtio-net-pci": ["virtio_pci", "virtio_net"],
} as const satisfies Record<string, readonly string[]>;
export type NicModel = keyof typeof NICS;

export interface GuestKernel {
  release: string;
  vmlinuz: string;
  /** The QEMU NIC model whose driver this kernel has. */
  nic: NicModel;
  /** Modules to load in this order (dependencies first), absolute paths in the cache. */
  modules: string[];
  /** Modules the guest carries but does not load at boot, each with its dependencies first. */
  extra: Record<string, string[]>;
}

export interface FetchKernelOptions {
  release: string;
  cacheDir: string;
  /** Modules (e.g. nfsd, ext4) to carry for tests to load later. */
  extraModules?: string[];
  progress?: (msg: string) => void;
}

/** Debian's kernel release names: `6.1.0-50-amd64`, `6.1.0-56-cloud-amd64`, … */
export const RELEASE_RE = /^\d+\.\d+\.\d+-\d+-[a-z0-9-]+$/;

const normalizeModName = (name: string) => name.replace(/-/g, "_");

/**
 * The `depends=` entry of a kernel module's `.modinfo` ELF section (what `modinfo -F depends`
 * prints): the image packages carry no modules.dep (depmod makes it at install time).
 */
export function moduleDepends(ko: Buffer): string[] {
  // ELF64 little-endian only: the x86-64 kernels these guests boot.
  if (ko.readUInt32BE(0) !== 0x7f454c46 || ko[4] !== 2 || ko[5] !== 1) throw new Error("not a 64-bit little-endian ELF file");
  const shoff = Number(ko.readBigUInt64LE(0x28));
  const shentsize = ko.readUInt16LE(0x3a);
  const shnum = ko.readUInt16LE(0x3c);
  const shstrndx = ko.readUInt16LE(0x3e);
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    return { name: ko.readUInt32LE(at), offset: Number(ko.readBigUInt64LE(at + 0x18)), size: Number(ko.readBigUInt64LE(at + 0x20)) };
  };
  const names = section(shstrndx);
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    const nameEnd = ko.indexOf(0, names.offset + s.name);
    if (ko.toString("latin1", names.offset + s.name, nameEnd) !== ".modinfo") continue;
    for (const entry of ko.toString("latin1", s.offset, s.offset + s.size).split("\0")) {
      if (entry.startsWith("depends=")) return entry.slice("depends=".length).split(",").filter(Boolean);
    }
    return [];
  }
  throw new Error("no .modinfo section: not a kernel module");
}

function walkKo(dir: string, into: Map<string, string>): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) walkKo(full, into);
    else if (e.name.endsWith(".ko")) into.set(normalizeModName(e.name.slice(0, -3)), full);
  }
}

/** Names of the modules built into the kernel (modules.builtin, shipped in the image package). */
function builtinModules(moduleTree: string): Set<string> {
  try {
    return new Set(
      fs
        .readFileSync(path.join(moduleTree, "modules.builtin"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => normalizeModName(path.basename(l, ".ko"))),
    );
  } catch {
    return new Set();
  }
}

/**
 * Modules `wanted` and their dependencies, dependencies first; built-in ones are left out.
 * Null when one of `wanted` is neither a module nor built in.
 */
export function moduleClosure(moduleTree: string, wanted: readonly string[]): string[] | null {
  const byName = new Map<string, string>();
  walkKo(moduleTree, byName);
  const builtin = builtinModules(moduleTree);
  if (wanted.some((w) => !byName.has(normalizeModName(w)) && !builtin.has(normalizeModName(w)))) return null;
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string, chain: string[]) => {
    const n = normalizeModName(name);
    if (seen.has(n) || builtin.has(n)) return;
    const file = byName.get(n);
    if (!file) throw new Error(`module ${name} is not in ${moduleTree}${chain.length ? ` (needed by ${chain.join(" ← ")})` : ""}`);
    seen.add(n);
    for (const dep of moduleDepends(fs.readFileSync(file))) visit(dep, [n, ...chain]);
    order.push(file);
  };
  for (const w of wanted) visit(w, []);
  return order;
}

export async function downloadImagePackage(release: string, debDir: string, progress: (m: string) => void): Promise<string> {
  const pkg = `linux-image-${release}-unsigned`;
  const find = () => fs.readdirSync(debDir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith(".deb"));
  const have = find();
  if (have) return path.join(debDir, have);
  progress(`downloading ${pkg} (apt-get download)`);
  try {
    await run("apt-get", ["download", "-q", pkg], { cwd: debDir, maxBuffer: 16 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`apt-get download ${pkg} failed (is ${release} a Debian kernel release this machine's apt sources carry? \`apt-cache search linux-image-${release}\`): ${(e.stderr || e.message).trim()}`);
  }
  const got = find();
  if (!got) throw new Error(`apt-get download ${pkg} left no .deb in ${debDir}`);
  return path.join(debDir, got);
}

/**
 * The release's vmlinuz, a NIC its kernel can drive and that NIC's modules (with dependencies),
 * fetched and unpacked on first use and cached under `<cacheDir>/kernels/<release>/`.
 */
export async function fetchKernel(opts: FetchKernelOptions): Promise<GuestKernel> {
  const { release, cacheDir } = opts;
  const progress = opts.progress ?? (() => {});
  if (!RELEASE_RE.test(release)) throw new Error(`"${release}" is not a Debian kernel release (e.g. 6.1.0-50-amd64)`);
  const dir = path.join(cacheDir, "kernels", release);
  const manifestFile = path.join(dir, "manifest.json");
  const wantedExtra = [...new Set(opts.extraModules ?? [])];
  let knownExtra: string[] = [];
  try {
    const m = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as { vmlinuz: string; nic: NicModel; modules: string[]; extra?: Record<string, string[]> };
    const extra = Object.fromEntries(Object.entries(m.extra ?? {}).map(([k, v]) => [k, v.map((f) => path.join(dir, f))]));
    const k: GuestKernel = { release, vmlinuz: path.join(dir, m.vmlinuz), nic: m.nic, modules: m.modules.map((f) => path.join(dir, f)), extra };
    knownExtra = Object.keys(extra);
    if (wantedExtra.every((w) => w in extra) && [k.vmlinuz, ...k.modules, ...Object.values(extra).flat()].every((f) => fs.existsSync(f))) return k;
  } catch {
    // not cached yet (or damaged): fetch again
  }

  const debDir = path.join(cacheDir, "debs");
  fs.mkdirSync(debDir, { recursive: true });
  const deb = await downloadImagePackage(release, debDir, progress);
  progress(`unpacking ${path.basename(deb)}`);
  const tmp = fs.mkdtempSync(path.join(cacheDir, `.unpack-${release}-`));
  try {
    await run("dpkg", ["-x", deb, tmp]);
    const vmlinuz = path.join(tmp, "boot", `vmlinuz-${release}`);
    if (!fs.existsSync(vmlinuz)) throw new Error(`${path.basename(deb)} has no boot/vmlinuz-${release}`);
    const tree = path.join(tmp, "lib/modules", release);
    let nic: NicModel | undefined;
    let mods: string[] | null = null;
    for (const model of Object.keys(NICS) as NicModel[]) {
      mods = moduleClosure(tree, NICS[model]);
      if (mods) {
        nic = model;
        break;
      }
    }
    if (!nic || !mods) throw new Error(`${release} has drivers for none of the NICs QEMU can give it (${Object.keys(NICS).join(", ")})`);
    fs.mkdirSync(path.join(dir, "modules"), { recursive: true });
    fs.copyFileSync(vmlinuz, path.join(dir, "vmlinuz"));
    const configFile = path.join(tmp, "boot", `config-${release}`);
    if (fs.existsSync(configFile)) fs.copyFileSync(configFile, path.join(dir, "config"));
    const rel = mods.map((m) => path.join("modules", path.basename(m)));
    mods.forEach((m, i) => fs.copyFileSync(m, path.join(dir, rel[i]!)));
    const extraRel: Record<string, string[]> = {};
    for (const name of [...new Set([...knownExtra, ...wantedExtra])]) {
      const closure = moduleClosure(tree, [name]);
      if (!closure) throw new Error(`${release} has no module ${name}`);
      extraRel[name] = closure.map((m) => path.join("modules", path.basename(m)));
      closure.forEach((m, i) => fs.copyFileSync(m, path.join(dir, extraRel[name]![i]!)));
    }
    // Written last and atomically: a manifest means the files it names are complete.
    const part = `${manifestFile}.${crypto.randomBytes(4).toString("hex")}`;
    fs.writeFileSync(part, JSON.stringify({ vmlinuz: "vmlinuz", nic, modules: rel, extra: extraRel }, null, 2));
    fs.renameSync(part, manifestFile);
    const extra = Object.fromEntries(Object.entries(extraRel).map(([k, v]) => [k, v.map((f) => path.join(dir, f))]));
    return { release, vmlinuz: path.join(dir, "vmlinuz"), nic, modules: rel.map((f) => path.join(dir, f)), extra };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
