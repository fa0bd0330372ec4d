import "server-only";
import { execFile } from "node:child_process";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { alreadyApplied, applyFileDiff, appliesTo, HunkDoesNotApply } from "@/lib/builds/kbuild/apply";
import { absentFromRelease } from "@/lib/builds/kbuild/absent";
import { compileUnit, withTree, type TreeContext } from "@/lib/builds/kbuild/compile";
import { BuildFailure, type Builder, type BuildReport, type BuildRequest, type BuiltArtifact } from "@/lib/builds/types";
import { diffObjects, type ObjectDiff } from "@/lib/livepatch/compare";
import { indexObject, type ObjectIndex } from "@/lib/livepatch/kernel-object";
import { includesOf } from "@/lib/builds/stacking";
import { readElf, SHN, STB, STT, writeElf, type Sym } from "@/lib/livepatch/elf";
import { KlpLayoutError, klpRelocations, type KlpConversion } from "@/lib/livepatch/klp";
import { moduleGlobals, moduleSymbolTable } from "@/lib/livepatch/module-symbols";
import { kbuildFile, wrapperSource, type KlpObjectSpec } from "@/lib/livepatch/module-source";
import { buildPatchObject, type Reach, type SymbolRef } from "@/lib/livepatch/patch-object";
import { functionCode, ModuleCode, runPreModule, runPreVmlinux, VmlinuxCode } from "@/lib/livepatch/run-pre";
import { placeSymbol, UnresolvedSymbol, type SymbolTable } from "@/lib/livepatch/symbols";
import { parsePatch, type DiffFile } from "@/lib/analysis/diff";
import { livepatchModuleName } from "@/lib/livepatch/module-name";
import { formatMs, passedEnv, runProcess, shellQuote } from "./process";
import { BUILD_OUTCOME } from "@/lib/api/schemas";

// The `kbuild` builder: a livepatch module built from object code, for the exact kernel a host
// runs, as Ksplice and kpatch do. For release R it takes R's own source, config and binaries
// (KernelReleases: fetched with apt and prepared once), compiles each patched file before and
// after the patch with function sections, compares the objects per function (lib/livepatch),
// checks the "before" code against R's shipped code (run-pre), and links the changed functions
// into a module whose references to anything else are livepatch relocations the kernel resolves.

/** A release's prepared tree and what the builder reads of the release's binaries. */
export interface ReleaseTree {
  release: string;
  /** e.g. "Debian 6.1.192-1 (Linux 6.1.192)". */
  source: string;
  /** Source unpacked, R's .config, `make modules_prepare` done with KERNELRELEASE=R, Module.symvers. */
  tree: string;
  /** For every make in the tree: KERNELRELEASE=R, R's compiler. */
  makeArgs: string[];
  /** vmlinux's symbols (from R's unstripped vmlinux: FILE symbols, kallsyms order). */
  vmlinuxSymbols(): Promise<SymbolTable>;
  /** R's vmlinux as an ELF (from its vmlinuz). */
  vmlinuxImage: string;
  /** R's shipped .ko of a module, if R has it. */
  modulePath(name: string): Promise<string | undefined>;
}

export interface KernelReleases {
  prepare(opts: { release: string; signal: AbortSignal; log: (line: string) => void }): Promise<ReleaseTree>;
  /** The releases prepared already (no download or extraction before their builds). */
  prepared?(): Promise<string[]>;
}

export interface KbuildBuilderOptions {
  releases: KernelReleases;
  /** Kill make after this long. Default 10 minutes. */
  timeoutMs?: number;
  maxLogBytes?: number;
  /** argv of make. Default ["make"]. */
  make?: string[];
}

const RELEASE_RE = /^[A-Za-z0-9._+~-]{1,128}$/;
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
const run = promisify(execFile);

interface Unit {
  file: DiffFile;
  /** The release's own source of the file. */
  base: string;
  /** What the patch is built on: the release's source with the earlier patches of this file applied (see stacking.ts). */
  pre: string;
  /** null: the patch deletes the file. */
  post: string | null;
}

export function createKbuildBuilder(opts: KbuildBuilderOptions): Builder {
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  const maxLogBytes = opts.maxLogBytes ?? 1024 * 1024;
  const make = opts.make ?? ["make"];

  async function build(req: BuildRequest): Promise<BuiltArtifact> {
    const release = req.kernelRelease;
    if (!RELEASE_RE.test(release)) throw new BuildFailure(`not a kernel release: ${JSON.stringify(release)}`, "refused");
    if (req.signal.aborted) throw new BuildFailure("build aborted before it started", "timeout");
    const moduleName = livepatchModuleName(req.patchId);
    const files = filesToPatch(req);

    const r = await opts.releases.prepare({ release, signal: req.signal, log: req.log });
    req.log(`source: ${r.source}; tree ${r.tree}`);

    // Apply each file's hunks to R's own source, on top of the earlier patches built for R that
    // change the same file (their fixes must stay in any function both change); a patch R already
    // has is nothing to do.
    const earlier = (req.earlier ?? []).map((e) => ({ ...e, files: new Map(parsePatch(e.diff).files.map((f) => [f.path, f])) }));
    const builtOn = new Set<string>();
    const units: Unit[] = [];
    const alreadyFixed: string[] = [];
    for (const f of files) {
      const base = await readFile(path.join(r.tree, f.path), "utf8").catch(() => undefined);
      if (f.status === "deleted") {
        // Whether a deleted file matters depends on R building it: compiled below.
        if (base === undefined) {
          alreadyFixed.push(f.path);
          req.log(`${f.path}: the patch deletes it and ${release}'s source has no such file`);
        } else units.push({ file: f, base, pre: base, post: null });
        continue;
      }
      if (base === undefined) throw new BuildFailure(`${f.path} is not in ${release}'s source (${r.source})`, BUILD_OUTCOME.failed);
      let pre = base;
      const under: string[] = [];
      for (const e of earlier) {
        const ef = e.files.get(f.path);
        if (!ef || ef.status !== "modified") continue;
        try {
          pre = applyFileDiff(pre, ef);
        } catch (err) {
          if (!(err instanceof HunkDoesNotApply)) throw err;
          if (alreadyApplied(pre, ef)) continue;
          throw new BuildFailure(`patch "${e.title}", built for ${release} before this one, no longer applies to ${f.path} under the patches before it: ${err.message}`, BUILD_OUTCOME.failed);
        }
        builtOn.add(e.patchId);
        under.push(`"${e.title}"`);
      }
      if (under.length > 0) req.log(`${f.path}: applied first the earlier patch${under.length === 1 ? "" : "es"} built for ${release} that change it: ${under.join(", ")}`);
      try {
        units.push({ file: f, base, pre, post: applyFileDiff(pre, f) });
        req.log(`applied ${f.hunks.length} hunk${f.hunks.length === 1 ? "" : "s"} to ${f.path}`);
      } catch (err) {
        if (!(err instanceof HunkDoesNotApply)) throw err;
        if (alreadyApplied(pre, f)) {
          alreadyFixed.push(f.path);
          req.log(`${f.path}: ${release}'s source${under.length ? " with the earlier patches" : ""} already has this change`);
          continue;
        }
        if (under.length > 0 && appliesTo(base, f)) {
          throw new BuildFailure(`${err.message}: it applies to ${release}'s own source but not on top of the earlier patch${under.length === 1 ? "" : "es"} ${under.join(", ")}, which change${under.length === 1 ? "s" : ""} the same lines; built alone it would undo ${under.length === 1 ? "that fix" : "those fixes"} where both are live. Stage it against the source with ${under.length === 1 ? "that patch" : "those patches"} applied`, BUILD_OUTCOME.failed);
        }
        throw new BuildFailure(`${err.message} (${r.source})`, BUILD_OUTCOME.failed);
      }
    }
    if (units.length === 0) throw new BuildFailure(`already fixed in ${release}: its source (${r.source}) already has this change in ${alreadyFixed.join(", ")}`, "already_fixed");

    const ctx: TreeContext = { tree: r.tree, makeArgs: r.makeArgs, signal: req.signal, log: req.log, timeoutMs, make };
    const work = path.join(req.workDir, "objects");
    await mkdir(work, { recursive: true });
    /** `base`: the release's own object, when the patch is built on earlier ones (run-pre checks its code). */
    const diffs: { unit: Unit; object: string; diff: ObjectDiff; base: ObjectIndex }[] = [];
    const notBuilt: string[] = [];
    const deletedBuilt: string[] = [];
    await withTree(ctx, async () => {
      for (const [i, u] of units.entries()) {
        const preOut = path.join(work, `${i}.pre.o`);
        const pre = await compileUnit(ctx, { file: u.file.path, out: preOut });
        if (pre.kind === "not_built") {
          notBuilt.push(u.file.path);
          req.log(`${u.file.path} is not built in ${release} (not in its config)`);
          continue;
        }
        if (pre.kind === "error") {
          // R's own source of the file, with R's config and compiler, does not compile: R's build
          // did not compile it either (kbuild compiles a file named on the command line even when
          // the config leaves it out, and what it needs is then missing).
          for (const e of pre.errors) req.log(`  ${e}`);
          notBuilt.push(u.file.path);
          req.log(`${u.file.path} is not built in ${release}: its unpatched source does not compile with ${release}'s config (${pre.errors[0] ?? "compiler error"})`);
          continue;
        }
        // kbuild compiles a file its config leaves out when asked for it by name (as built-in code):
        // R's own binaries say whether the unit is part of R.
        const absent = await absentFromRelease(r, u.file.path, pre.object, readElf(await readFile(preOut)));
        let baseOut = preOut;
        if (u.pre !== u.base) {
          // The pre-image so far is R's own (the cached object): now the one with the earlier patches.
          baseOut = path.join(work, `${i}.base.o`);
          await rename(preOut, baseOut);
          const stacked = await compileUnit(ctx, { file: u.file.path, text: u.pre, out: preOut });
          if (stacked.kind !== "ok") throw new BuildFailure(`${u.file.path} does not compile with the earlier patches of this release applied: ${stacked.kind === "error" ? (stacked.errors[0] ?? "compiler error") : "not built"}`, BUILD_OUTCOME.failed);
        }
        if (absent) {
          notBuilt.push(u.file.path);
          req.log(`${u.file.path} is not built in ${release}: ${absent}`);
          continue;
        }
        req.log(`compiled ${u.file.path} as shipped${pre.cached ? " (cached)" : ""} in ${formatMs(pre.ms)}: part of ${pre.object === "vmlinux" ? "vmlinux" : `module ${pre.object}`}`);
        if (u.post === null) {
          deletedBuilt.push(`${u.file.path} is deleted by the patch, but ${release} runs its code (in ${pre.object === "vmlinux" ? "vmlinux" : `${pre.object}.ko`}): a live patch replaces functions, it cannot take code out of the kernel`);
          continue;
        }
        const postOut = path.join(work, `${i}.post.o`);
        const post = await compileUnit(ctx, { file: u.file.path, text: u.post, out: postOut });
        if (post.kind === "error") {
          for (const e of post.errors) req.log(`  ${e}`);
          throw new BuildFailure(`${u.file.path} does not compile with the patch alone in ${release}: ${post.errors[0] ?? "compiler error"}${post.errors.length > 1 ? ` (and ${post.errors.length - 1} more)` : ""}; the fix needs changes outside this diff`, "does_not_compile");
        }
        if (post.kind === "not_built") throw new BuildFailure(`${u.file.path} stopped being built with the patch`, BUILD_OUTCOME.failed);
        req.log(`compiled ${u.file.path} with the patch in ${formatMs(post.ms)}`);
        const diff = diffObjects(readElf(await readFile(preOut)), readElf(await readFile(postOut)));
        diffs.push({ unit: u, object: pre.object, diff, base: baseOut === preOut ? diff.pre : indexObject(readElf(await readFile(baseOut))) });
      }
    });
    if (deletedBuilt.length > 0) refuse(req, deletedBuilt);
    if (diffs.length === 0) throw new BuildFailure(`not built in ${release}: ${notBuilt.join(", ")} ${notBuilt.length === 1 ? "is" : "are"} not part of its config, so there is nothing to patch`, "not_built");

    // The verdict of the object diff.
    const refusals: string[] = [];
    for (const { unit, diff } of diffs) {
      for (const s of diff.changed) req.log(`${unit.file.path}: ${s.name} changed`);
      for (const s of diff.added) req.log(`${unit.file.path}: ${s.name} is new`);
      for (const s of diff.addedData) req.log(`${unit.file.path}: new variable ${s.name}`);
      refusals.push(...diff.refusals.map((x) => `${x.message} (${unit.file.path})`));
    }
    if (refusals.length > 0) refuse(req, refusals);
    if (diffs.every((d) => d.diff.changed.length === 0)) {
      throw new BuildFailure(`no change in ${release}: the patch changes none of its code (the objects compiled before and after the patch are the same)`, "no_change");
    }

    // Place every symbol, check each replaced function against R's code, build the patch objects.
    const vmlinux = await r.vmlinuxSymbols();
    const { exporters: symvers, namespaces } = await readSymvers(path.join(r.tree, "Module.symvers"));
    /** Symbol namespaces of the exports the module uses (EXPORT_SYMBOL_NS: modpost refuses a module that does not import them). */
    const importNamespaces = new Set<string>();
    const moduleTables = new Map<string, { table: SymbolTable; globals: Set<string>; code: ModuleCode }>();
    const moduleInfo = async (name: string) => {
      let m = moduleTables.get(name);
      if (!m) {
        const ko = await r.modulePath(name);
        if (!ko) throw new UnresolvedSymbol(`${release} has no module ${name}.ko`, name);
        const obj = readElf(await readFile(ko));
        m = { table: moduleSymbolTable(name, obj), globals: moduleGlobals(obj), code: new ModuleCode(obj) };
        moduleTables.set(name, m);
      }
      return m;
    };
    let vmlinuxCode: VmlinuxCode | undefined;
    const objects = new Map<string, KlpObjectSpec>();
    const report: BuildReport = { source: r.source, replaced: [], added: [], includes: [] };
    const moduleDir = path.join(req.workDir, "module");
    await mkdir(moduleDir, { recursive: true });
    const patchObjects: string[] = [];
    /** The klp_object each section of the patch objects patches (null: several; kbuild merges same-named sections). */
    const sectionObject = new Map<string, string | null>();
    for (const [i, { unit, object, diff, base }] of diffs.entries()) {
      if (diff.changed.length === 0 && diff.added.length === 0) continue;
      const table = object === "vmlinux" ? vmlinux : (await moduleInfo(object)).table;
      const unitLocals = base.obj.symbols.filter((s) => s.bind === STB.LOCAL && s.section && (s.type === STT.FUNC || s.type === STT.OBJECT)).map((s) => s.name);
      const resolver = (ref: SymbolRef): Reach => {
        if (ref.inUnit) {
          const p = placeSymbol({ table, name: ref.name, local: ref.local, file: diff.pre.file, unitLocals });
          return { kind: "klp", object, name: ref.name, sympos: p.sympos };
        }
        const exporter = symvers.get(ref.name);
        if (exporter === "vmlinux") return { kind: "export" };
        if (object !== "vmlinux") {
          const m = moduleTables.get(object);
          if (m?.globals.has(ref.name)) return { kind: "klp", object, name: ref.name, sympos: placeSymbol({ table, name: ref.name, local: false }).sympos };
          if (exporter) return { kind: "klp", object: exporter, name: ref.name, sympos: 0 };
        }
        const p = placeSymbol({ table: vmlinux, name: ref.name, local: false });
        return { kind: "klp", object: "vmlinux", name: ref.name, sympos: p.sympos };
      };
      if (object !== "vmlinux") await moduleInfo(object);
      const built = buildPatchObject({ diff, object, resolve: resolver });
      if (!built.ok) refuse(req, built.refusals.map((x) => `${x.message} (${unit.file.path})`));
      for (const n of built.notes) req.log(`${unit.file.path}: ${n}`);

      // Run-pre: the code replaced must be the code R runs (R's own: a function an earlier patch
      // changed runs that patch's code, built from this same source with it applied).
      for (const s of diff.changed) {
        const stackedSym = diff.correlation.get(s) as Sym;
        const preSym = base === diff.pre ? stackedSym : base.obj.symbols.find((x) => x.name === stackedSym.name && x.type === STT.FUNC && x.section !== undefined && x.bind === stackedSym.bind);
        if (!preSym) refuse(req, [`${stackedSym.name} is not in ${release}'s code: an earlier patch of ${unit.file.path} adds it, and a live patch cannot replace a function another live patch adds`]);
        const placed = built.replaced.find((x) => x.name === preSym.name);
        if (!hasFentry(base, preSym)) refuse(req, [`${preSym.name} has no ftrace entry (notrace) in ${release}: a live patch cannot redirect it`]);
        const preCode = functionCode(base.obj, preSym);
        if (object === "vmlinux") {
          const placement = placeSymbol({ table: vmlinux, name: preSym.name, local: preSym.bind === STB.LOCAL, file: diff.pre.file, unitLocals });
          vmlinuxCode ??= new VmlinuxCode(await readFile(r.vmlinuxImage));
          const check = runPreVmlinux({ name: preSym.name, pre: preCode, symbol: placement.symbol, code: vmlinuxCode });
          if (!check.ok) refuse(req, [`run-pre check: ${check.reason}; the source, config or compiler is not what built ${release}`]);
        } else {
          const m = await moduleInfo(object);
          const placement = placeSymbol({ table: m.table, name: preSym.name, local: preSym.bind === STB.LOCAL, file: diff.pre.file, unitLocals });
          const shipped = m.code.function(preSym.name, positionAmongFunctions(m.table, preSym.name, placement.symbol.addr));
          if (!shipped) refuse(req, [`${preSym.name} is not a function of ${object}.ko in ${release}`]);
          const check = runPreModule({ name: preSym.name, pre: base, preFn: preSym, shipped: m.code.index, shippedFn: shipped });
          if (!check.ok) refuse(req, [`run-pre check: ${check.reason}; the source, config or compiler is not what built ${release}`]);
        }
        req.log(`run-pre: ${preSym.name} matches ${release}'s ${object} code`);
        report.replaced.push({ object, function: preSym.name, sympos: placed?.sympos ?? 0, file: unit.file.path });
      }
      for (const s of diff.added) report.added.push({ object, function: s.name, file: unit.file.path });

      // Entry symbols unique across the module's patch objects.
      const obj = built.object;
      for (const s of obj.symbols) if (s.name.startsWith("__splicer_new_")) s.name = s.name.replace("__splicer_new_", `__splicer_new_${i}_`);
      for (const sec of obj.sections) sectionObject.set(sec.name, sectionObject.has(sec.name) && sectionObject.get(sec.name) !== object ? null : object);
      const spec = objects.get(object) ?? { object, functions: [] };
      spec.functions.push(...built.replaced.map((x) => ({ ...x, entry: x.entry.replace("__splicer_new_", `__splicer_new_${i}_`) })));
      objects.set(object, spec);
      for (const s of obj.symbols) {
        const ns = s.section === undefined && s.shndx === SHN.UNDEF ? namespaces.get(s.name) : undefined;
        if (ns) importNamespaces.add(ns);
      }
      const name = `patch${i}.o`;
      await writeFile(path.join(moduleDir, name), writeElf(obj));
      // kbuild's modpost reads each object's .cmd file; these objects are not compiled by kbuild.
      await writeFile(path.join(moduleDir, `.${name}.cmd`), `cmd_${name} := splicer\n`);
      patchObjects.push(name);
      req.log(`patch object ${name}: ${built.replaced.length} function${built.replaced.length === 1 ? "" : "s"} replaced, ${built.klpSymbols.length} livepatch symbol${built.klpSymbols.length === 1 ? "" : "s"}`);
      for (const k of built.klpSymbols) req.log(`  ${k}`);
    }
    for (const x of report.replaced) req.log(`replaces ${x.function}${x.sympos ? ` (sympos ${x.sympos})` : ""} in ${x.object}`);
    report.includes = includesOf({ replaced: report.replaced, earlier: (req.earlier ?? []).filter((e) => builtOn.has(e.patchId)) });
    for (const inc of report.includes) {
      req.log(
        inc.functions.length > 0
          ? `built on top of "${inc.title}": both change ${inc.functions.join(", ")}; this module carries its fix too, and loads only where it is live`
          : `includes "${inc.title}" in its source, but they change no function in common: independent of it`,
      );
    }

    // Link: the wrapper and the patch objects, with kbuild against R's prepared tree.
    await writeFile(path.join(moduleDir, "wrapper.c"), wrapperSource({ moduleName, description: `Splicer live patch ${req.patchId} for ${release}`, objects: [...objects.values()], importNamespaces: [...importNamespaces].sort() }));
    await writeFile(path.join(moduleDir, "Kbuild"), kbuildFile(moduleName, ["wrapper.o", ...patchObjects]));
    const args = [...make.slice(1), "-C", r.tree, ...r.makeArgs, `M=${moduleDir}`, "KBUILD_MODPOST_WARN=1", "modules"];
    req.log(`$ ${[make[0] as string, ...args].map(shellQuote).join(" ")}`);
    const started = Date.now();
    const linked = await runProcess(make[0] as string, args, { cwd: moduleDir, env: passedEnv(), signal: req.signal, timeoutMs, maxLogBytes, log: req.log });
    if (linked.kind === "spawn-error") throw new Error(`cannot run ${make[0]}: ${linked.error.message}`, { cause: linked.error });
    if (linked.kind === "timeout") throw new BuildFailure(`make timed out after ${formatMs(timeoutMs)}; killed`, "timeout");
    if (linked.kind === "aborted") throw new BuildFailure("build aborted (the console is shutting down or the build was cancelled); killed", "timeout");
    if (linked.signal || linked.code !== 0) throw new BuildFailure(`make ${linked.signal ? `killed by ${linked.signal}` : `exited with status ${linked.code}`}:\n${linked.tail.join("\n").slice(-4000)}`, BUILD_OUTCOME.failed);
    const ko = path.join(moduleDir, `${moduleName}.ko`);
    await run("strip", ["--strip-debug", ko]);
    let conv: KlpConversion;
    try {
      conv = klpRelocations(await readFile(ko), { objectOf: sectionObject });
    } catch (err) {
      if (err instanceof KlpLayoutError) refuse(req, [err.message]);
      throw err;
    }
    const unexported = conv.undefined.filter((s) => symvers.get(s) !== "vmlinux");
    if (unexported.length > 0) refuse(req, unexported.map((s) => `the module would need ${s}, which vmlinux does not export`));
    for (const [name, n] of Object.entries(conv.sections)) req.log(`${name}: ${n} livepatch relocation${n === 1 ? "" : "s"}`);
    const bytes = conv.bytes;
    if (!bytes.subarray(0, 4).equals(ELF_MAGIC)) throw new BuildFailure(`${moduleName}.ko is not an ELF object`, "bad_output");
    req.log(`built ${moduleName}.ko for ${release} in ${formatMs(Date.now() - started)} (${bytes.length} bytes)`);
    return { bytes, moduleName, fileName: `${moduleName}.ko`, report };
  }

  return { name: "kbuild", build, ...(opts.releases.prepared ? { preparedReleases: opts.releases.prepared } : {}) };
}

function refuse(req: BuildRequest, reasons: string[]): never {
  for (const r of reasons) req.log(`refused: ${r}`);
  throw new BuildFailure(`cannot live-patch: ${reasons.join("; ")}`, "refused");
}

/** A function ftrace can redirect has an __mcount_loc entry at its start. */
function hasFentry(idx: ObjectIndex, fn: Sym): boolean {
  const mcount = idx.obj.sections.find((s) => s.name === "__mcount_loc");
  const relas = mcount ? idx.relaOf.get(mcount)?.relas : undefined;
  if (!relas) return false;
  return relas.some((r) => {
    const target = r.sym.section === fn.section && (r.sym.type === STT.SECTION || r.sym === fn);
    const at = r.sym.type === STT.SECTION ? r.addend : r.sym.value + r.addend;
    return target && at >= fn.value && at < fn.value + 16n;
  });
}

/** Which of a module's same-named functions (in symtab order) is the one at `addr`. */
function positionAmongFunctions(table: SymbolTable, name: string, addr: bigint): number {
  const fns = table.lookup(name).filter((s) => s.type === "FUNC");
  const i = fns.findIndex((s) => s.addr === addr);
  return i < 0 ? 1 : i + 1;
}

/** Module.symvers (crc, symbol, module, export type, namespace): who exports each symbol, and in which namespace. */
async function readSymvers(file: string): Promise<{ exporters: Map<string, string>; namespaces: Map<string, string> }> {
  const exporters = new Map<string, string>();
  const namespaces = new Map<string, string>();
  for (const line of (await readFile(file, "utf8")).split("\n")) {
    const [, name, mod, , ns] = line.split("\t");
    if (name && mod) exporters.set(name, mod === "vmlinux" ? "vmlinux" : path.basename(mod));
    if (name && ns) namespaces.set(name, ns);
  }
  return { exporters, namespaces };
}

/** The C files the patch changes; other files must be without effect on the running kernel. */
function filesToPatch(req: BuildRequest): DiffFile[] {
  const parsed = parsePatch(req.diff);
  const problems: string[] = [];
  const out: DiffFile[] = [];
  const added: string[] = [];
  for (const file of parsed.files) {
    const a = req.analysis.files.find((x) => x.path === file.path);
    if (file.path.endsWith(".c")) {
      // A deleted file matters only if R builds it (the builder finds out). An added one is in no
      // build of R: nothing R runs changes by it (code of the patch that calls into it does not
      // compile alone). A renamed or copied one would change what R's build compiles.
      if (file.status === "modified" || file.status === "deleted") out.push(file);
      else if (file.status === "added") added.push(file.path);
      else problems.push(`${file.path} is ${file.status} by the patch: a live patch can only change functions of existing files`);
      continue;
    }
    if (a && a.findings.length > 0 && a.findings.every((f) => f.impact === "none")) {
      req.log(`${file.path}: no effect on the running kernel, skipped`);
      continue;
    }
    problems.push(
      file.path.endsWith(".h")
        ? `${file.path} is a header: this builder compiles only the patched .c files, so a header change would be missed by the files that include it`
        : `${file.path} is not C source: only code in C files can be live patched`,
    );
  }
  if (problems.length > 0) refuse(req, problems);
  for (const f of added) req.log(`${f} is new with the patch: no build of ${req.kernelRelease} compiles it, so nothing it runs changes by it`);
  if (out.length === 0 && added.length > 0) {
    throw new BuildFailure(`not built in ${req.kernelRelease}: ${added.join(", ")} ${added.length === 1 ? "is a new file" : "are new files"}, which its build does not compile, so there is nothing to patch`, "not_built");
  }
  if (out.length === 0) refuse(req, ["the patch changes no C file"]);
  return out;
}
