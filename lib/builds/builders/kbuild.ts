import "server-only";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { applyFileDiff, HunkDoesNotApply } from "@/lib/builds/kbuild/apply";
import { headerIndex, loadKernelHeaders, makefileVersion, type KernelHeaders } from "@/lib/builds/kbuild/headers";
import { generateModuleSource, type PatchedFile, type Problem } from "@/lib/builds/kbuild/module-source";
import { objectOwner } from "@/lib/builds/kbuild/object-owner";
import { kernelSource, quotedIncludeDirs, type SourceTree } from "@/lib/builds/kbuild/source";
import { BuildFailure, type Builder, type BuildRequest, type BuiltArtifact } from "@/lib/builds/types";
import { cParser } from "@/lib/patches/c-parser";
import { parsePatch, type DiffFile } from "@/lib/patches/diff";
import type { PatchAnalysis } from "@/lib/patches/types";
import { resolveTemplate } from "./command";
import { livepatchModuleName } from "./module-name";
import { formatMs, passedEnv, runProcess, shellQuote } from "./process";

// The `kbuild` builder: a real livepatch module per kernel release with no kpatch. It applies the
// patch to the release's kernel source, generates a module from the new definitions of the
// changed functions (lib/builds/kbuild/module-source.ts), and compiles it against the release's
// kbuild headers with `make -C <headers> M=<dir> modules`. What such a module cannot do (reach
// unexported symbols, change data, re-run __init code) it refuses before compiling, naming each
// symbol; where kpatch-build is installed, the `command` builder handles more.

export interface KbuildBuilderOptions {
  /** Kernel source per release: a directory or a tarball, {release} substituted if present. */
  kernelSourceTemplate: string;
  /** kbuild headers per release. Default /usr/src/linux-headers-{release}. */
  headersTemplate?: string;
  /** Where extracted source is cached between builds. */
  cacheDir: string;
  /** Kill make (or tar) after this long. Default 10 minutes. */
  timeoutMs?: number;
  maxLogBytes?: number;
  /** argv of make. Default ["make"]. */
  make?: string[];
}

export const DEFAULT_HEADERS_TEMPLATE = "/usr/src/linux-headers-{release}";
const RELEASE_RE = /^[A-Za-z0-9._+~-]{1,128}$/;
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
const MODPOST_UNDEFINED = /^(?:ERROR|WARNING): modpost: "([^"]+)" \[[^\]]*\] undefined!/;

export function createKbuildBuilder(opts: KbuildBuilderOptions): Builder {
  const headersTemplate = opts.headersTemplate ?? DEFAULT_HEADERS_TEMPLATE;
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  const maxLogBytes = opts.maxLogBytes ?? 1024 * 1024;
  const make = opts.make ?? ["make"];

  async function build(req: BuildRequest): Promise<BuiltArtifact> {
    const release = req.kernelRelease;
    if (!RELEASE_RE.test(release)) throw new BuildFailure(`not a kernel release: ${JSON.stringify(release)}`, "refused");
    if (req.signal.aborted) throw new BuildFailure("build aborted before it started", "timeout");
    const moduleName = livepatchModuleName(req.patchId);

    const refusal = analysisRefusal(req.analysis);
    if (refusal.length > 0) refuse(req, refusal);
    const cFiles = filesToPatch(req);

    const headersDir = resolveTemplate(headersTemplate, release);
    let headers: KernelHeaders;
    try {
      headers = await loadKernelHeaders(headersDir);
    } catch (err) {
      throw new BuildFailure(`no usable kbuild headers for ${release}: ${(err as Error).message} (install linux-headers-${release})`, "failed");
    }
    req.log(`headers: ${headers.dir}${headers.version ? ` (Linux ${headers.version})` : ""}; exports from ${headers.symversPath} (${headers.exported.size} symbols)`);

    // The source: the patched files' directories (their Makefiles and local headers), then the
    // directories of what they include with quotes, then the top Makefile for the version.
    const location = resolveTemplate(opts.kernelSourceTemplate, release);
    const dirsOf = (p: string) => path.posix.dirname(p);
    const wanted = new Set<string>(["", ...cFiles.map((f) => dirsOf(f.path))]);
    let source: SourceTree = await kernelSource({ location, cacheDir: opts.cacheDir, dirs: [...wanted], signal: req.signal, timeoutMs, log: req.log });
    const pre = new Map<string, string>();
    for (const f of cFiles) {
      const text = await readOptional(path.join(source.root, f.oldPath ?? f.path));
      if (text === undefined) throw new BuildFailure(`${f.oldPath ?? f.path} is not in the kernel source ${source.origin}`, "failed");
      pre.set(f.path, text);
    }
    const more = [...new Set(cFiles.flatMap((f) => quotedIncludeDirs(f.path, pre.get(f.path) as string)))].filter((d) => !wanted.has(d));
    if (more.length > 0) {
      more.forEach((d) => wanted.add(d));
      source = await kernelSource({ location, cacheDir: opts.cacheDir, dirs: [...wanted], signal: req.signal, timeoutMs, log: req.log });
    }
    const sourceVersion = makefileVersion((await readOptional(path.join(source.root, "Makefile"))) ?? "");
    req.log(`source: ${source.origin}${sourceVersion ? ` (Linux ${sourceVersion})` : ""}`);
    if (sourceVersion && headers.version && sourceVersion !== headers.version) {
      req.log(
        `warning: the source is Linux ${sourceVersion} but ${release} is ${headers.version}: the new functions are built from ${sourceVersion}'s code; check the patched functions did not change between the two`,
      );
    }

    // Apply the patch and decide each file's klp_object.
    const patched: PatchedFile[] = [];
    const ownerProblems: Problem[] = [];
    for (const f of cFiles) {
      let text: string;
      try {
        text = applyFileDiff(pre.get(f.path) as string, f);
      } catch (err) {
        if (err instanceof HunkDoesNotApply) throw new BuildFailure(`${err.message} (source: ${source.origin})`, "failed");
        throw err;
      }
      req.log(`applied ${f.hunks.length} hunk${f.hunks.length === 1 ? "" : "s"} to ${f.path}`);
      const dir = path.join(source.root, dirsOf(f.path));
      const makefiles = (await Promise.all(["Makefile", "Kbuild"].map((n) => readOptional(path.join(dir, n))))).filter((t): t is string => t !== undefined);
      const owner = objectOwner(path.posix.basename(f.path), makefiles, headers.config);
      if (owner.kind === "not-built") {
        ownerProblems.push({ file: f.path, message: `${f.path} is not built in ${release} (${owner.config} is not set): there is nothing to patch` });
        continue;
      }
      if (owner.kind === "unknown") {
        ownerProblems.push({ file: f.path, message: `cannot tell whether ${f.path} is built into vmlinux or a module: ${owner.reason}` });
        continue;
      }
      req.log(`${f.path} is built into ${owner.kind === "vmlinux" ? "vmlinux" : `module ${owner.name} (${owner.config ?? "obj-m"}=m)`}`);
      const functions = req.analysis.files.find((a) => a.path === f.path)?.functions ?? [];
      patched.push({ path: f.path, text, functions: functions.map((fn) => ({ name: fn.name, change: fn.change })), object: owner.kind === "vmlinux" ? null : owner.name });
    }
    if (ownerProblems.length > 0) refuse(req, ownerProblems.map((p) => p.message));

    const index = await headerIndex(headers);
    const parser = await cParser();
    const result = generateModuleSource(parser, {
      moduleName,
      patchId: req.patchId,
      kernelRelease: release,
      files: patched,
      symbols: { isExported: (n) => headers.exported.has(n), headers: index },
    });
    if (!result.ok) refuse(req, result.problems.map((p) => p.message));
    const generated = result.module;
    for (const r of generated.replaced) req.log(`replaces ${r.oldName}() in ${r.object ?? "vmlinux"} with ${r.newName}() (${r.file})`);
    if (generated.unknown.length > 0) {
      req.log(`not classified, left to the compiler and modpost: ${generated.unknown.map((u) => `${u.symbol} (in ${u.function})`).join(", ")}`);
    }

    // Compile.
    const moduleDir = path.join(req.workDir, "module");
    await mkdir(moduleDir, { recursive: true });
    const includeDirs = [...new Set(patched.map((f) => path.join(source.root, dirsOf(f.path))))];
    await writeFile(path.join(moduleDir, `${moduleName}.c`), generated.source, "utf8");
    await writeFile(path.join(moduleDir, "Kbuild"), kbuildFile(moduleName, includeDirs), "utf8");
    const args = [...make.slice(1), "-C", headers.dir, `M=${moduleDir}`, "modules"];
    req.log(`$ ${[make[0] as string, ...args].map(shellQuote).join(" ")}`);
    const undefinedSymbols = new Set<string>();
    const started = Date.now();
    const run = await runProcess(make[0] as string, args, {
      cwd: moduleDir,
      env: passedEnv(),
      signal: req.signal,
      timeoutMs,
      maxLogBytes,
      log: (line) => {
        const m = MODPOST_UNDEFINED.exec(line.trim());
        if (m) undefinedSymbols.add(m[1] as string);
        req.log(line);
      },
    });
    if (run.kind === "spawn-error") throw new Error(`cannot run ${make[0]}: ${run.error.message}`, { cause: run.error });
    if (run.kind === "timeout") throw new BuildFailure(`make timed out after ${formatMs(timeoutMs)}; killed`, "timeout");
    if (run.kind === "aborted") throw new BuildFailure("build aborted (the console is shutting down or the build was cancelled); killed", "timeout");
    if (undefinedSymbols.size > 0) {
      refuse(req, [...undefinedSymbols].map((s) => `the new code uses ${s}, which the kernel does not export to modules (modpost: undefined)`));
    }
    if (run.signal || run.code !== 0) {
      const tail = run.tail.join("\n");
      throw new BuildFailure(`make ${run.signal ? `killed by ${run.signal}` : `exited with status ${run.code}`}${tail ? `:\n${tail.slice(-4000)}` : ""}`, "failed");
    }
    const koPath = path.join(moduleDir, `${moduleName}.ko`);
    const bytes = await readFile(koPath).catch(() => undefined);
    if (!bytes) throw new BuildFailure(`make succeeded but ${moduleName}.ko is not there`, "bad_output");
    if (bytes.length < 16 || !bytes.subarray(0, 4).equals(ELF_MAGIC)) throw new BuildFailure(`${moduleName}.ko is not an ELF object`, "bad_output");
    req.log(`built ${moduleName}.ko for ${release} in ${formatMs(Date.now() - started)} (${bytes.length} bytes)`);
    return { bytes, moduleName, fileName: `${moduleName}.ko` };
  }

  return { name: "kbuild", build };
}

function refuse(req: BuildRequest, reasons: string[]): never {
  const message = `cannot live-patch with the kbuild builder: ${reasons.join("; ")}`;
  for (const r of reasons) req.log(`refused: ${r}`);
  throw new BuildFailure(message, "refused");
}

/** Kbuild file of the module: one object, and the patched files' directories for their local headers. */
export function kbuildFile(moduleName: string, includeDirs: string[]): string {
  return [`obj-m := ${moduleName}.o`, ...includeDirs.map((d) => `ccflags-y += -I${d}`), ""].join("\n");
}

/**
 * What the analysis already rules out. The kbuild builder carries only new function bodies, so
 * it refuses every finding that needs more than that (data changes, removed functions, __init
 * code, header and build changes…), not only those that require a reboot.
 */
export function analysisRefusal(analysis: PatchAnalysis): string[] {
  const reasons = analysis.reasons.filter((r) => r.impact === "reboot" || r.impact === "review");
  if (analysis.verdict === "requires-reboot" && reasons.length === 0) return ["the analysis says this patch requires a reboot"];
  return reasons.map((r) => `${r.impact === "reboot" ? "requires a reboot" : "cannot be carried by a live patch module"}: ${r.message}`);
}

/** The C files whose functions the module replaces; header changes are refused (the build compiles against installed headers). */
function filesToPatch(req: BuildRequest): DiffFile[] {
  const parsed = parsePatch(req.diff);
  const problems: string[] = [];
  const out: DiffFile[] = [];
  for (const file of parsed.files) {
    const a = req.analysis.files.find((x) => x.path === file.path);
    const kind = a?.kind;
    const meaningful = !a || a.functions.length > 0 || a.findings.some((f) => f.code !== "comment_only");
    if (kind === "header") {
      if (meaningful) problems.push(`${file.path} is a header: the module is compiled against the release's installed headers, so a header change cannot be carried`);
      continue;
    }
    if (kind !== "c") {
      if (meaningful && !a?.findings.every((f) => f.impact === "none")) problems.push(`${file.path} is not C source: only functions in C files can be replaced`);
      else req.log(`${file.path}: no effect on the running kernel, skipped`);
      continue;
    }
    if (file.status !== "modified") {
      problems.push(`${file.path} is ${file.status} by the patch: a live patch can only change functions of existing files`);
      continue;
    }
    if (!a || a.functions.length === 0) {
      req.log(`${file.path}: no function changes, skipped`);
      continue;
    }
    out.push(file);
  }
  if (problems.length > 0) refuse(req, problems);
  if (out.length === 0) refuse(req, ["the patch changes no function in a C file"]);
  return out;
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    if (!(await stat(file)).isFile()) return undefined;
    return await readFile(file, "utf8");
  } catch {
    return undefined;
  }
}
