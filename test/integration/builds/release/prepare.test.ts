// Preparing a real Debian release end to end with nothing but apt: its exact source, config,
// Module.symvers, shipped code and symbols, then compiling in the prepared tree as R was built.
// Takes ~2-4 min the first time (1.1 GB of packages). The prepared release is kept in
// SPLICER_TEST_KERNEL_CACHE (default <repo>/.data/kernel-cache), shared with later tests of the
// same run, which then find it prepared. Skipped where apt does not know the release, except in CI.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { prepareRelease, preparedReleases, ReleaseUnavailable, type PreparedRelease } from "@/lib/builds/release";
import { parseReadelfSymbols } from "@/lib/builds/release/readelf";
import { kallsymsOrder, parseSystemMap } from "@/lib/builds/release/kallsyms";
import { indexElf } from "@/lib/builds/release/symbols";
import { SymbolIndex, type KernelSymbol } from "@/lib/builds/release/symbol-index";
import { KERNEL_CACHE_DIR, releaseUnavailable } from "../../../helpers/kernels";

const CACHE = KERNEL_CACHE_DIR;
const RELEASE = "6.1.0-55-amd64";

const skip = releaseUnavailable(RELEASE);

const log: string[] = [];
let r: PreparedRelease;
const ctx = { release: RELEASE, signal: new AbortController().signal, log: () => {} };
const make = (...args: string[]) =>
  execFileSync("make", ["-C", r.tree, ...r.makeArgs, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
const symbolsOf = (elf: string) => parseReadelfSymbols(execFileSync("readelf", ["-sW", elf], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }));

describe.skipIf(skip)(`preparing Debian's ${RELEASE}${skip ? " (skipped: apt does not know it)" : ""}`, () => {
  beforeAll(async () => {
    r = await prepareRelease({ release: RELEASE, cacheDir: CACHE, log: (l) => log.push(l), signal: new AbortController().signal });
  }, 20 * 60_000);

  it("finds R's Debian version by itself and logs each step", () => {
    expect(r).toMatchObject({ release: RELEASE, origin: "debian", debianVersion: "6.1.192-1", sourceVersion: "6.1.192", configChanges: [] });
    expect(r.makeArgs).toEqual([`KERNELRELEASE=${RELEASE}`, "CC=gcc-12"]);
    const text = log.join("\n");
    if (r.reused) {
      expect(text).toContain(`prepared release from ${r.dir}`);
    } else {
      expect(text).toContain(`${RELEASE} was built from Debian linux 6.1.192-1`);
      expect(text).toMatch(/downloaded [\d.]+ MB in [\d.]+ s|cached \([\d.]+ MB/);
      expect(text).toContain("extracted System.map and the unstripped vmlinux");
      expect(text).toMatch(/symbol index: \d+ symbols/);
      expect(text).toMatch(/prepared the tree in [\d.]+ s \(utsrelease.h: 6\.1\.0-55-amd64/);
      expect(text).toMatch(new RegExp(`${RELEASE} prepared in [\\d.]+ s`));
    }
    for (const step of ["resolve", "download", "extractSymbols", "extractSource", "extractImage", "index", "vmlinux", "config", "modulesPrepare", "total"]) {
      expect(r.timings[step], step).toBeGreaterThanOrEqual(0);
    }
    // The 632 MB unstripped vmlinux is gone: the disk holds the tree, modules, code and index.
    expect(r.diskBytes).toBeLessThan(2.5e9);
    expect(fs.existsSync(path.join(r.dir, "work"))).toBe(false);
  });

  it("keeps R's code from vmlinuz, with the build id of the symbols", () => {
    const notes = execFileSync("readelf", ["-nW", r.vmlinuxPath], { encoding: "utf8" });
    expect(notes).toContain(`Build ID: ${r.buildId}`);
    expect(execFileSync("readelf", ["-SW", r.vmlinuxPath], { encoding: "utf8" })).toMatch(/\.text\s+PROGBITS\s+ffffffff81000000/);
  });

  it("indexes every kallsyms symbol with its sympos, and local symbols with their file", async () => {
    const idx = await r.symbols();
    const kallsyms = kallsymsOrder(parseSystemMap(fs.readFileSync(r.systemMapPath!, "utf8")));
    expect(idx.symbols.filter((s) => s.sympos !== undefined)).toHaveLength(kallsyms.length);

    const found = (res: ReturnType<SymbolIndex["lookup"]>): KernelSymbol => {
      expect(res.kind).toBe("found");
      return (res as { symbol: KernelSymbol }).symbol;
    };
    const show = found(idx.lookup("cmdline_proc_show", { path: "fs/proc/cmdline.c", type: "FUNC" }));
    expect(show).toMatchObject({ bind: "LOCAL", section: ".text", sympos: 0 });
    expect(found(idx.lookup("saved_command_line"))).toMatchObject({ type: "OBJECT", bind: "GLOBAL", sympos: 0 });

    // Names listed more than once: sympos 1..n in address order, each from another file.
    const dups = new Map<string, KernelSymbol[]>();
    for (const s of idx.symbols) if (s.sympos && s.type === "FUNC") dups.set(s.name, [...(dups.get(s.name) ?? []), s]);
    expect(dups.size).toBeGreaterThan(100);
    for (const list of dups.values()) {
      const byAddr = [...list].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
      expect(byAddr.map((s) => s.sympos)).toEqual(byAddr.map((_, i) => i + 1));
    }
    const shows = [...(dups.get("show") ?? [])];
    expect(shows.length).toBeGreaterThanOrEqual(2);
    expect(new Set(shows.map((s) => idx.fileOf(s)?.path)).size).toBe(shows.length);
    for (const s of shows) expect(found(idx.lookup("show", { path: idx.fileOf(s)!.path!, type: "FUNC" }))).toBe(s);
    // Nearly every FILE group knows its source path.
    expect(idx.files.filter((f) => f.path).length / idx.files.length).toBeGreaterThan(0.99);
  });

  it("keeps the modules as shipped, by name", async () => {
    const nfsd = await r.modulePath("nfsd");
    expect(nfsd).toBe(path.join(r.dir, "modules/kernel/fs/nfsd/nfsd.ko"));
    expect(await r.modulePath("snd-hda-intel")).toMatch(/snd-hda-intel\.ko$/);
    expect(await r.modulePath("no_such_module")).toBeUndefined();
    expect((await r.builtinModules()).has("ext4")).toBe(false);
  });

  it("compiles one vmlinux object and one module object exactly as R's: the same function sizes", async () => {
    const idx = await r.symbols();
    make("fs/proc/cmdline.o");
    const fn = symbolsOf(path.join(r.tree, "fs/proc/cmdline.o")).find((s) => s.name === "cmdline_proc_show" && s.type === "FUNC");
    expect(fn?.size).toBe(idx.byName("cmdline_proc_show")[0]!.size);

    make("fs/nfsd/nfs4state.o");
    const nfsd = new SymbolIndex((await indexElf({ ctx, elf: (await r.modulePath("nfsd"))!, object: "nfsd", kind: "module" })).data);
    const state = symbolsOf(path.join(r.tree, "fs/nfsd/nfs4state.o")).filter((s) => s.type === "FUNC" && s.size > 0);
    expect(state.length).toBeGreaterThan(100);
    const shipped = state.filter((s) => nfsd.byName(s.name).length === 1);
    expect(shipped.length).toBeGreaterThan(100);
    expect(shipped.filter((s) => nfsd.byName(s.name)[0]!.size !== s.size).map((s) => s.name)).toEqual([]);
  }, 10 * 60_000);

  it("compiles with -ffunction-sections -fdata-sections: one section per function", () => {
    make("KCFLAGS=-ffunction-sections -fdata-sections", "fs/nfsd/nfs4state.o");
    const sections = execFileSync("readelf", ["-SW", path.join(r.tree, "fs/nfsd/nfs4state.o")], { encoding: "utf8" });
    expect(sections).toContain(".text.nfsd4_process_open2");
    expect(sections.match(/\] \.text\.\S+/g)!.length).toBeGreaterThan(100);
    // Note for the object diff: a jump to another section is no longer relaxed to a short jump,
    // so some functions grow (nfsd4_lm_put_owner: 17 bytes shipped, 20 with -ffunction-sections).
  }, 10 * 60_000);

  it("builds an external module with R's vermagic", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-vermagic-"));
    try {
      fs.writeFileSync(path.join(dir, "hello.c"), '#include <linux/module.h>\nstatic int __init hello_init(void) { return 0; }\nmodule_init(hello_init);\nMODULE_LICENSE("GPL");\n');
      fs.writeFileSync(path.join(dir, "Kbuild"), "obj-m += hello.o\n");
      make(`M=${dir}`, "modules");
      const vermagic = (ko: string) => execFileSync("modinfo", ["-F", "vermagic", ko], { encoding: "utf8" }).trim();
      expect(vermagic(path.join(dir, "hello.ko"))).toBe(vermagic(path.join(r.dir, "modules/kernel/fs/nfsd/nfsd.ko")));
      expect(vermagic(path.join(dir, "hello.ko"))).toMatch(/^6\.1\.0-55-amd64 SMP /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 5 * 60_000);

  it("is taken from the cache afterwards, also by two builds at once", async () => {
    const started = Date.now();
    const [a, b] = await Promise.all([0, 1].map(() => prepareRelease({ release: RELEASE, cacheDir: CACHE, log: () => {}, signal: new AbortController().signal })));
    expect(a!.reused && b!.reused).toBe(true);
    expect(a!.tree).toBe(r.tree);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("is listed among the cache's prepared releases (what a build worker advertises), an unfinished one is not", async () => {
    expect(await preparedReleases(CACHE)).toContain(RELEASE);
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-kcache-"));
    try {
      fs.mkdirSync(path.join(cacheDir, "6.1.0-98-amd64", "tree"), { recursive: true });
      fs.cpSync(path.join(CACHE, RELEASE, "manifest.json"), path.join(cacheDir, RELEASE, "manifest.json"), { recursive: true });
      fs.mkdirSync(path.join(cacheDir, "not a release"));
      // A manifest whose files are not there is not a prepared release.
      expect(await preparedReleases(cacheDir)).toEqual([]);
      expect(await preparedReleases(path.join(cacheDir, "missing"))).toEqual([]);
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});

describe("what cannot be had is refused, never replaced", () => {
  it("a release apt does not have: ReleaseUnavailable naming the package; an unfinished directory and a dead holder's lock are cleared", async () => {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-kcache-"));
    try {
      const release = "6.1.0-99-amd64";
      fs.mkdirSync(path.join(cacheDir, release, "tree"), { recursive: true });
      fs.mkdirSync(path.join(cacheDir, `.${release}.lock`));
      fs.writeFileSync(path.join(cacheDir, `.${release}.lock`, "owner.json"), JSON.stringify({ pid: 2 ** 22 + 11, host: os.hostname(), since: "earlier" }));
      const err = await prepareRelease({ release, cacheDir, log: () => {}, signal: new AbortController().signal }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ReleaseUnavailable);
      expect(err).toMatchObject({ kind: "no-package", reason: "refused" });
      expect((err as Error).message).toContain("no Debian package linux-image-6.1.0-99-amd64-unsigned in the apt sources");
      expect(fs.existsSync(path.join(cacheDir, release, "tree"))).toBe(false);
      expect(fs.existsSync(path.join(cacheDir, `.${release}.lock`))).toBe(false);
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it.each([
    ["5.14.0-427.el9.x86_64", undefined, /not a Debian kernel release name/, "bad-release"],
    ["a/b", undefined, /not a kernel release/, "bad-release"],
    ["5.14.0-427.el9.x86_64", "config", /has no Module.symvers/, "no-file"],
  ])("%s (layout with %s)", async (release, files, message, kind) => {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-kcache-"));
    const releasesDir = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-releases-"));
    try {
      if (files) {
        fs.mkdirSync(path.join(releasesDir, release));
        fs.writeFileSync(path.join(releasesDir, release, files), "CONFIG_LIVEPATCH=y\n");
      }
      const err = await prepareRelease({ release, cacheDir, releasesDir, log: () => {}, signal: new AbortController().signal }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ReleaseUnavailable);
      expect(err).toMatchObject({ kind });
      expect((err as Error).message).toMatch(message);
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
      fs.rmSync(releasesDir, { recursive: true, force: true });
    }
  });
});
