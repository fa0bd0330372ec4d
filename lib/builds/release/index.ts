import "server-only";
// The exact kernel of a release R, prepared once per build machine and cached:
//
//   prepareRelease({ release: "6.1.0-55-amd64", cacheDir, log, signal })
//
// On Debian, with nothing configured but apt: the version R was built from (apt-cache show
// linux-image-R-unsigned), R's source (linux-source-X.Y at that version), configuration and
// Module.symvers (linux-headers-R), shipped code (linux-image-R-unsigned: vmlinuz, modules) and
// symbols (linux-image-R-dbg: System.map and the unstripped vmlinux, reduced to a symbol index).
// Elsewhere: a directory per release (see layout.ts). What cannot be had is a ReleaseUnavailable,
// never a fallback to other source.
//
// <cacheDir>/<R>/ holds: tree/ (prepared: .config, Module.symvers, modules_prepare done),
// vmlinux (from vmlinuz, stripped: the code), vmlinuz, System.map, symbols.json, modules/
// (/lib/modules/R as shipped) and manifest.json, written last. A directory without a valid
// manifest is an unfinished preparation and is redone; a lock keeps two preparations of R apart.
import { existsSync } from "node:fs";
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { dataDir } from "@/lib/config";
import { debianReleasePackages, RELEASE_NAME_RE, type AptPackage } from "./apt";
import { aptVersions, extractMembers, extractSourceTree, fetchPackages, requirePackages, type Fetched } from "./debian";
import { ReleaseUnavailable } from "./errors";
import { capture, runPipeline, seconds, type StepContext } from "./exec";
import { prepareFromDirectory } from "./layout";
import { acquireLock } from "./lock";
import { preparedFields, readManifest, writeManifest, type Manifest } from "./manifest";
import { readModuleTable, uncompressedModule, type ModuleTable } from "./modules";
import { elfBuildId, indexElf, loadSymbolIndex, writeSymbolIndex } from "./symbols";
import type { SymbolIndex } from "./symbol-index";
import { prepareTree } from "./tree";

export { ReleasePreparationFailed, ReleaseUnavailable } from "./errors";
export type { KernelSymbol, SourceFile, SymbolIndex, SymbolLookup, SymbolWhere } from "./symbol-index";

export interface PrepareReleaseOptions {
  /** `uname -r` of the kernel, e.g. 6.1.0-55-amd64. */
  release: string;
  /** Prepared releases live in <cacheDir>/<release>/. Default <data dir>/kernels. */
  cacheDir?: string;
  /** Downloaded .debs, one file per exact version. Default <cacheDir>/debs. */
  debDir?: string;
  /**
   * Keep R's own .debs (image, headers, dbg: about 930 MB) after a successful preparation. Default
   * false: they are deleted. linux-source debs are kept (R's flavours share them).
   */
  keepDebs?: boolean;
  /** Other distributions: a directory holding <release>/ per release (SPLICER_KERNEL_RELEASES_DIR). */
  releasesDir?: string;
  /** Debian: the version R must have been built from, when apt knows several (a host's `uname -v` names it). */
  debianVersion?: string;
  /** make -j. Default: the number of CPUs. */
  jobs?: number;
  log: (line: string) => void;
  signal: AbortSignal;
}

export interface PreparedRelease {
  release: string;
  origin: Manifest["origin"];
  /** Debian: the linux source package version R was built from, e.g. 6.1.192-1. */
  debianVersion?: string;
  /** VERSION.PATCHLEVEL.SUBLEVEL of the tree, e.g. 6.1.192. */
  sourceVersion: string;
  /** <cacheDir>/<release>. */
  dir: string;
  /**
   * R's source tree, prepared: compile with `make -C <tree> <makeArgs…> fs/ext4/mballoc.o` or
   * `make -C <tree> <makeArgs…> M=<dir> modules` (R's vermagic).
   */
  tree: string;
  /** KERNELRELEASE=R and CC=<R's compiler>, for every make in the tree. */
  makeArgs: string[];
  configPath: string;
  symversPath: string;
  /** R's code: the ELF inside vmlinuz (stripped; sections at their run addresses). */
  vmlinuxPath: string;
  systemMapPath?: string;
  symbolIndexPath: string;
  /** GNU build id of R's vmlinux (the same in vmlinuz and in the symbols). */
  buildId?: string;
  /** The symbol index of vmlinux, loaded once per process. */
  symbols(): Promise<SymbolIndex>;
  /** Path of module `name`'s .ko as shipped with R (dashes or underscores), undefined if R has none. */
  modulePath(name: string): Promise<string | undefined>;
  /** Modules R builds into vmlinux (modules.builtin). */
  builtinModules(): Promise<ReadonlySet<string>>;
  configChanges: string[];
  /** Milliseconds per step of the preparation that made the cache (download, extract…, total). */
  timings: Record<string, number>;
  /** True when the release was prepared before and taken from the cache. */
  reused: boolean;
  diskBytes: number;
}

export function defaultCacheDir(): string {
  return path.join(dataDir(), "kernels");
}

const REQUIRED_FILES: Array<keyof Manifest["files"]> = ["tree", "config", "symvers", "vmlinux", "symbols"];

function complete(dir: string, m: Manifest, release: string): boolean {
  return m.release === release && REQUIRED_FILES.every((k) => existsSync(path.resolve(dir, m.files[k] as string)));
}

/** The releases prepared in a cache directory (what a build worker advertises: it takes their builds first). */
export async function preparedReleases(cacheDir: string = defaultCacheDir()): Promise<string[]> {
  const names = await readdir(path.resolve(cacheDir)).catch(() => [] as string[]);
  const out: string[] = [];
  for (const release of names) {
    if (!RELEASE_NAME_RE.test(release)) continue;
    const dir = path.resolve(cacheDir, release);
    const m = await readManifest(path.join(dir, "manifest.json"));
    if (m && complete(dir, m, release)) out.push(release);
  }
  return out.sort();
}

export async function prepareRelease(o: PrepareReleaseOptions): Promise<PreparedRelease> {
  const { release } = o;
  if (!RELEASE_NAME_RE.test(release)) throw new ReleaseUnavailable(release, "bad-release", `not a kernel release: ${JSON.stringify(release)}`);
  const cacheDir = path.resolve(o.cacheDir ?? defaultCacheDir());
  const dir = path.join(cacheDir, release);
  const manifestPath = path.join(dir, "manifest.json");
  const ctx: StepContext = { release, signal: o.signal, log: o.log };

  const cached = await readManifest(manifestPath);
  if (cached && complete(dir, cached, release)) return open(ctx, dir, checkVersion(cached, o), true);

  await mkdir(cacheDir, { recursive: true });
  const lock = await acquireLock({
    lockDir: path.join(cacheDir, `.${release}.lock`),
    signal: o.signal,
    onWait: (owner) => o.log(`${release} is being prepared by ${owner}: waiting for it`),
  });
  try {
    const done = await readManifest(manifestPath);
    if (done && complete(dir, done, release)) {
      o.log(`${release}: prepared meanwhile by another build, using it`);
      return open(ctx, dir, checkVersion(done, o), true);
    }
    // Whatever is there is an unfinished preparation (killed, crashed): start over.
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const started = Date.now();
    const layoutDir = o.releasesDir ? path.join(path.resolve(o.releasesDir), release) : undefined;
    const manifest =
      layoutDir && existsSync(layoutDir)
        ? await prepareFromDirectory({ ctx, dir, source: layoutDir, jobs: o.jobs ?? os.availableParallelism() })
        : await prepareFromDebian(ctx, dir, o, cacheDir);
    manifest.timings.total = Date.now() - started;
    manifest.diskBytes = await diskUsage(ctx, dir);
    await writeManifest(manifestPath, manifest);
    o.log(`${release} prepared in ${seconds(manifest.timings.total)}: ${(manifest.diskBytes / 1e9).toFixed(2)} GB in ${dir}`);
    return open(ctx, dir, manifest, false);
  } finally {
    await lock.release();
  }
}

function checkVersion(m: Manifest, o: PrepareReleaseOptions): Manifest {
  if (o.debianVersion && m.debianVersion !== o.debianVersion) {
    throw new ReleaseUnavailable(o.release, "mismatch", `${o.release} is cached as built from Debian linux ${m.debianVersion ?? "(not Debian)"}, not ${o.debianVersion}`);
  }
  return m;
}

async function diskUsage(ctx: StepContext, dir: string): Promise<number> {
  const r = await capture("du", ["-sb", dir], { signal: ctx.signal });
  return Number(/^(\d+)/.exec(r.stdout)?.[1] ?? 0);
}

/** The upstream part of a Debian version: 6.1.192-1 → 6.1.192 (epoch and revision dropped). */
export function upstreamVersion(debianVersion: string): string {
  return debianVersion.replace(/^\d+:/, "").replace(/-[^-]*$/, "");
}

async function prepareFromDebian(ctx: StepContext, dir: string, o: PrepareReleaseOptions, cacheDir: string): Promise<Manifest> {
  const { release } = o;
  const jobs = o.jobs ?? os.availableParallelism();
  const pk = debianReleasePackages(release);
  if (!pk) {
    throw new ReleaseUnavailable(
      release,
      "bad-release",
      `${release} is not a Debian kernel release name (like 6.1.0-55-amd64)${o.releasesDir ? ` and ${path.join(o.releasesDir, release)} does not exist` : "; for other distributions set SPLICER_KERNEL_RELEASES_DIR"}`,
    );
  }
  const timings: Record<string, number> = {};
  const timed = async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    try {
      return await fn();
    } finally {
      timings[step] = Date.now() - t;
    }
  };

  // 1. Which version R is, and its four packages at exactly that version.
  const { image, headers, dbg, source } = await timed("resolve", async () => {
    const images = await aptVersions(ctx, pk.image, o.debianVersion);
    if (images.length === 0) {
      throw new ReleaseUnavailable(
        release,
        "no-package",
        `no Debian package ${pk.image}${o.debianVersion ? `=${o.debianVersion}` : ""} in the apt sources: cannot tell which source ${release} was built from (run apt-get update; for other distributions set SPLICER_KERNEL_RELEASES_DIR)`,
      );
    }
    if (images.length > 1) {
      throw new ReleaseUnavailable(release, "mismatch", `apt knows several builds of ${pk.image} (${images.map((p) => p.version).join(", ")}): which one the host runs is its \`uname -v\``);
    }
    const img = images[0]!;
    const [hdr, dbgPkg, src] = (await requirePackages(
      ctx,
      [
        { pkg: pk.headers, why: "its .config and Module.symvers" },
        { pkg: pk.dbg, why: "its symbols: System.map and the vmlinux with FILE symbols" },
        { pkg: pk.source, why: "its source" },
      ],
      img.version,
    )) as [AptPackage, AptPackage, AptPackage];
    return { image: img, headers: hdr, dbg: dbgPkg, source: src };
  });
  const version = image.version;
  ctx.log(`${release} was built from Debian linux ${version}: using ${source.package}, ${headers.package}, ${image.package} and ${dbg.package} at ${version}`);

  // 2. Fetch (cached by exact version).
  const debDir = path.resolve(o.debDir ?? path.join(cacheDir, "debs"));
  const fetched = await timed("download", () => fetchPackages(ctx, debDir, [source, headers, image, dbg]));
  const file = (pkg: string) => (fetched.find((f) => f.pkg.package === pkg) as Fetched).file;

  // 3. Extract what is needed, the three archives at once (mostly waiting on the disk).
  const tree = path.join(dir, "tree");
  const work = path.join(dir, "work");
  const hdrDir = `./usr/src/linux-headers-${release}`;
  await Promise.all([
    timed("extractSymbols", async () => {
      await extractMembers(ctx, file(dbg.package), work, [`./usr/lib/debug/boot/System.map-${release}`, `./usr/lib/debug/boot/vmlinux-${release}`], { step: "extract symbols", jobs, once: true });
      ctx.log(`extracted System.map and the unstripped vmlinux from ${dbg.package} in ${seconds(timings.extractSymbols ?? 0)}`);
    }),
    timed("extractSource", async () => {
      await extractSourceTree(ctx, file(source.package), source.package, tree, jobs);
      ctx.log(`unpacked ${source.package} ${version} into ${tree}`);
    }),
    timed("extractImage", async () => {
      await extractMembers(ctx, file(image.package), work, [`./boot/vmlinuz-${release}`, `./lib/modules/${release}`], { step: "extract image", jobs });
      await extractMembers(ctx, file(headers.package), work, [`${hdrDir}/.config`, `${hdrDir}/Module.symvers`, `${hdrDir}/.kernelvariables`], { step: "extract headers", jobs, once: true });
      await rename(path.join(work, "boot", `vmlinuz-${release}`), path.join(dir, "vmlinuz"));
      await rename(path.join(work, "lib/modules", release), path.join(dir, "modules"));
      ctx.log(`extracted vmlinuz and the modules from ${image.package}, .config and Module.symvers from ${headers.package}`);
    }),
  ]);
  ctx.log(`extracted: symbols ${seconds(timings.extractSymbols!)}, source ${seconds(timings.extractSource!)}, image and headers ${seconds(timings.extractImage!)}`);
  const dbgVmlinux = path.join(work, `usr/lib/debug/boot/vmlinux-${release}`);
  await rename(path.join(work, `usr/lib/debug/boot/System.map-${release}`), path.join(dir, "System.map"));

  // 4. The symbol index, R's code from vmlinuz, and the tree, side by side.
  const hdr = (f: string) => path.join(work, hdrDir, f);
  const [index, , prepared] = await Promise.all([
    timed("index", async () => {
      const t = Date.now();
      const result = await indexElf({ ctx, elf: dbgVmlinux, object: "vmlinux", systemMap: path.join(dir, "System.map"), kind: "vmlinux", tree });
      await writeSymbolIndex(path.join(dir, "symbols.json"), result);
      const s = result.stats;
      ctx.log(`symbol index: ${s.symbols} symbols, ${s.duplicatedNames} names listed more than once, ${s.files} FILE groups (${s.filesWithPath} with their source path) in ${seconds(Date.now() - t)}`);
      return result;
    }),
    timed("vmlinux", () => extractVmlinux(ctx, tree, path.join(dir, "vmlinuz"), path.join(dir, "vmlinux"))),
    prepareTree({ ctx, tree, config: hdr(".config"), symvers: hdr("Module.symvers"), kernelVariables: hdr(".kernelvariables"), jobs }),
  ]);
  timings.config = prepared.timings.config;
  timings.modulesPrepare = prepared.timings.modulesPrepare;

  // 5. Do the pieces belong together?
  const codeId = await elfBuildId(ctx, path.join(dir, "vmlinux"));
  if (!codeId || codeId !== index.data.buildId) {
    throw new ReleaseUnavailable(release, "mismatch", `${dbg.package}'s vmlinux (build id ${index.data.buildId ?? "none"}) is not the one in ${image.package}'s vmlinuz (build id ${codeId ?? "none"})`);
  }
  if (prepared.sourceVersion !== upstreamVersion(version)) {
    throw new ReleaseUnavailable(release, "mismatch", `${source.package} ${version} holds Linux ${prepared.sourceVersion}, not ${upstreamVersion(version)}`);
  }
  ctx.log(`vmlinuz and the symbols share build id ${codeId}; the tree is Linux ${prepared.sourceVersion}`);

  // 6. Keep the disk small: the 632 MB vmlinux is in the index now; R's own debs are not needed.
  await timed("cleanup", async () => {
    await rm(work, { recursive: true, force: true });
    if (!o.keepDebs) {
      for (const f of fetched) if (f.pkg.package !== source.package) await rm(f.file, { force: true });
    }
  });

  return {
    ...preparedFields({ prepared, symbolStats: index.stats, timings }),
    release,
    origin: "debian",
    debianVersion: version,
    packages: fetched.map((f) => ({ package: f.pkg.package, version: f.pkg.version, ...(f.pkg.sha256 ? { sha256: f.pkg.sha256 } : {}), ...(f.pkg.size ? { bytes: f.pkg.size } : {}) })),
    buildId: codeId,
    files: { tree: "tree", config: "tree/.config", symvers: "tree/Module.symvers", vmlinux: "vmlinux", vmlinuz: "vmlinuz", systemMap: "System.map", symbols: "symbols.json", modules: "modules" },
  };
}

/** R's code: the kernel's own scripts/extract-vmlinux turns vmlinuz into the ELF it holds. */
export async function extractVmlinux(ctx: StepContext, tree: string, vmlinuz: string, out: string): Promise<void> {
  const tmp = `${out}.tmp`;
  await runPipeline(ctx, `"$1/scripts/extract-vmlinux" "$2" > "$3"`, [tree, vmlinuz, tmp], { cwd: tree, step: "extract-vmlinux", timeoutMs: 10 * 60_000 });
  await rename(tmp, out);
  ctx.log(`extracted R's code from vmlinuz with scripts/extract-vmlinux: ${out}`);
}

// --- opening a prepared release --------------------------------------------------------------

const loadedIndexes = new Map<string, Promise<SymbolIndex>>();

function loadIndexOnce(file: string): Promise<SymbolIndex> {
  let p = loadedIndexes.get(file);
  if (!p) {
    p = loadSymbolIndex(file);
    p.catch(() => loadedIndexes.delete(file));
    loadedIndexes.set(file, p);
    // A worker serves a few releases: keep the last four indexes (about 50 MB each) in memory.
    while (loadedIndexes.size > 4) loadedIndexes.delete(loadedIndexes.keys().next().value as string);
  }
  return p;
}

function open(ctx: StepContext, dir: string, m: Manifest, reused: boolean): PreparedRelease {
  const at = (p: string) => path.resolve(dir, p);
  let modules: Promise<ModuleTable> | undefined;
  const table = () => (modules ??= m.files.modules ? readModuleTable(at(m.files.modules)) : Promise.resolve({ files: new Map(), builtin: new Set<string>() }));
  if (reused) ctx.log(`${m.release}: prepared release from ${dir} (Linux ${m.sourceVersion}${m.debianVersion ? `, Debian ${m.debianVersion}` : ""})`);
  return {
    release: m.release,
    origin: m.origin,
    ...(m.debianVersion ? { debianVersion: m.debianVersion } : {}),
    sourceVersion: m.sourceVersion,
    dir,
    tree: at(m.files.tree),
    makeArgs: m.makeArgs,
    configPath: at(m.files.config),
    symversPath: at(m.files.symvers),
    vmlinuxPath: at(m.files.vmlinux),
    ...(m.files.systemMap ? { systemMapPath: at(m.files.systemMap) } : {}),
    symbolIndexPath: at(m.files.symbols),
    ...(m.buildId ? { buildId: m.buildId } : {}),
    symbols: () => loadIndexOnce(at(m.files.symbols)),
    async modulePath(name) {
      const key = name.replace(/-/g, "_");
      const file = (await table()).files.get(key);
      return file === undefined ? undefined : uncompressedModule(ctx, file, key, path.join(dir, "modules-unpacked"));
    },
    builtinModules: async () => (await table()).builtin,
    configChanges: m.configChanges,
    timings: m.timings,
    reused,
    diskBytes: m.diskBytes,
  };
}
