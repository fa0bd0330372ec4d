import "server-only";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { BuildFailure, type Builder, type BuildRequest, type BuiltArtifact } from "@/lib/builds/types";
import { livepatchModuleName, MAX_MODULE_NAME } from "@/lib/livepatch/module-name";
import { formatMs, passedEnv, runProcess, shellQuote } from "./process";
import { BUILD_OUTCOME } from "@/lib/api/schemas";

// The `command` builder runs an external livepatch builder (kpatch-build, or a wrapper script)
// once per (patch, kernel release) and takes the .ko it produces as the artifact.
//
// Interface of the command (argv, no shell; runs in its own process group, cwd = work dir):
//
//   <command...> --sourcedir <src> [--vmlinux <dbg>] --archversion <release>
//                --name <module> --output <workDir>/out <workDir>/patch.diff
//
// These are kpatch-build's own option names, so `["kpatch-build"]` works as is. The same
// values are in the environment, for wrapper scripts:
//
//   SPLICER_DIFF            <workDir>/patch.diff (the diff as staged)
//   SPLICER_KERNEL_RELEASE  the target kernel's `uname -r`
//   SPLICER_WORK_DIR        an empty directory for this build (removed afterwards)
//   SPLICER_KERNEL_SOURCE   kernelSourceTemplate with {release} substituted (must exist)
//   SPLICER_DEBUGINFO       debugInfoTemplate with {release} substituted (empty if not configured)
//   SPLICER_OUTPUT_DIR      <workDir>/out: write exactly one .ko here
//   SPLICER_MODULE_NAME     suggested module name (livepatch_<12 hex of the patch id>)
//   SPLICER_PATCH_ID, SPLICER_BUILD_ID
//
// The rest of the environment is not inherited (the console's holds secrets): only PATH, HOME,
// USER, LOGNAME, SHELL, LANG, LC_*, TZ, TMPDIR and KPATCH_*/CCACHE_* variables pass through.
//
// stdout and stderr become the build log, line by line. Exit status 0 and exactly one ELF file
// named <module>.ko in the output dir is success; the module name is the file's basename with
// dashes turned into underscores (as the kernel does).

export interface CommandBuilderOptions {
  /** argv of the builder, e.g. ["kpatch-build"] or ["/opt/splicer/build.sh", "--flag"]. */
  command: string[];
  /** Kernel source tree per release, e.g. "/usr/src/linux-source-{release}". */
  kernelSourceTemplate: string;
  /** vmlinux with debug info per release, e.g. "/usr/lib/debug/boot/vmlinux-{release}". */
  debugInfoTemplate?: string;
  /** Kill the build after this long. Default 30 minutes. */
  timeoutMs?: number;
  /** Cap on the build log kept and streamed. Default 1 MiB. */
  maxLogBytes?: number;
  /** Extra environment variables for the command. */
  env?: Record<string, string>;
}

const DEFAULT_TIMEOUT_MS = 30 * 60_000;
const DEFAULT_MAX_LOG_BYTES = 1024 * 1024;
const RELEASE_RE = /^[A-Za-z0-9._+~-]{1,128}$/;
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

export function resolveTemplate(template: string, release: string): string {
  return template.replaceAll("{release}", release);
}

export function createCommandBuilder(opts: CommandBuilderOptions): Builder {
  if (opts.command.length === 0 || opts.command.some((a) => a.length === 0)) {
    throw new Error("command builder: the command must be a non-empty argv of non-empty strings");
  }
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxLogBytes = opts.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES;
  const [program, ...fixedArgs] = opts.command as [string, ...string[]];

  async function build(req: BuildRequest): Promise<BuiltArtifact> {
    const release = req.kernelRelease;
    if (!RELEASE_RE.test(release)) {
      throw new BuildFailure(`not a kernel release: ${JSON.stringify(release)}`, "refused");
    }
    if (req.signal.aborted) throw new BuildFailure("build aborted before it started", "timeout");
    // The external builder builds each patch alone and reports no functions: Splicer could not
    // tell whether loading it would undo an earlier patch of the same file (lib/builds/stacking.ts).
    if (req.earlier?.length) {
      const titles = req.earlier.map((e) => `"${e.title}"`).join(", ");
      const message = `cannot live-patch safely: ${titles}, built for ${release} before this patch, change${req.earlier.length === 1 ? "s" : ""} the same file, and the command builder builds each patch alone without saying which functions it replaces, so loading this one could undo ${req.earlier.length === 1 ? "that fix" : "those fixes"}; use the kbuild builder, which builds it on top of them, or give the command a diff with both`;
      req.log(message);
      throw new BuildFailure(message, BUILD_OUTCOME.refused);
    }

    const sourceDir = resolveTemplate(opts.kernelSourceTemplate, release);
    if (!(await isDir(sourceDir))) {
      throw new BuildFailure(`no kernel source for ${release} at ${sourceDir}`, BUILD_OUTCOME.failed);
    }
    let debugInfo = "";
    if (opts.debugInfoTemplate) {
      debugInfo = resolveTemplate(opts.debugInfoTemplate, release);
      if (!(await isFile(debugInfo))) {
        throw new BuildFailure(`no debug info (vmlinux) for ${release} at ${debugInfo}`, BUILD_OUTCOME.failed);
      }
    }

    const diffPath = path.join(req.workDir, "patch.diff");
    const outDir = path.join(req.workDir, "out");
    const moduleName = livepatchModuleName(req.patchId);
    await mkdir(outDir, { recursive: true });
    await writeFile(diffPath, req.diff, "utf8");

    const args = [
      ...fixedArgs,
      "--sourcedir", sourceDir,
      ...(debugInfo ? ["--vmlinux", debugInfo] : []),
      "--archversion", release,
      "--name", moduleName,
      "--output", outDir,
      diffPath,
    ];
    const env = passedEnv();
    Object.assign(env, opts.env, {
      SPLICER_DIFF: diffPath,
      SPLICER_KERNEL_RELEASE: release,
      SPLICER_WORK_DIR: req.workDir,
      SPLICER_KERNEL_SOURCE: sourceDir,
      SPLICER_DEBUGINFO: debugInfo,
      SPLICER_OUTPUT_DIR: outDir,
      SPLICER_MODULE_NAME: moduleName,
      SPLICER_PATCH_ID: req.patchId,
      SPLICER_BUILD_ID: req.buildId,
    });

    req.log(`$ ${[program, ...args].map(shellQuote).join(" ")}`);
    const result = await runProcess(program, args, { cwd: req.workDir, env, signal: req.signal, timeoutMs, maxLogBytes, log: req.log });

    if (result.kind === "spawn-error") {
      // Missing or non-executable binary: a configuration/infrastructure problem, retried.
      throw new Error(`cannot run build command ${program}: ${result.error.message}`, { cause: result.error });
    }
    if (result.kind === "timeout") {
      throw new BuildFailure(`build timed out after ${formatMs(timeoutMs)}; killed`, "timeout");
    }
    if (result.kind === "aborted") {
      throw new BuildFailure("build aborted (the console is shutting down or the build was cancelled); killed", "timeout");
    }
    const tailText = result.tail.join("\n");
    const tail = tailText ? `:\n${tailText.length > 4000 ? `…${tailText.slice(-4000)}` : tailText}` : "";
    if (result.signal) {
      throw new BuildFailure(`build command killed by ${result.signal}${tail}`, BUILD_OUTCOME.failed);
    }
    if (result.code !== 0) {
      throw new BuildFailure(`build command exited with status ${result.code}${tail}`, BUILD_OUTCOME.failed);
    }

    const artifact = await collect(outDir);
    req.log(`built ${artifact.fileName} (${artifact.bytes.length} bytes, module ${artifact.moduleName})`);
    return artifact;
  }

  return { name: "command", build };
}

async function collect(outDir: string): Promise<BuiltArtifact> {
  let entries: string[];
  try {
    entries = await readdir(outDir);
  } catch {
    entries = [];
  }
  const kos = entries.filter((e) => e.endsWith(".ko")).sort();
  if (kos.length === 0) {
    throw new BuildFailure("the build command succeeded but produced no .ko in the output directory", "bad_output");
  }
  if (kos.length > 1) {
    throw new BuildFailure(`the build command produced several .ko files (${kos.join(", ")}); expected exactly one`, "bad_output");
  }
  const fileName = kos[0]!;
  const base = fileName.slice(0, -".ko".length);
  if (!/^[A-Za-z0-9_-]+$/.test(base)) {
    throw new BuildFailure(`not a valid module file name: ${JSON.stringify(fileName)}`, "bad_output");
  }
  const moduleName = base.replace(/-/g, "_");
  if (moduleName.length > MAX_MODULE_NAME) {
    throw new BuildFailure(`module name ${moduleName} is longer than ${MAX_MODULE_NAME} characters`, "bad_output");
  }
  const file = path.join(outDir, fileName);
  const st = await stat(file);
  if (!st.isFile()) throw new BuildFailure(`${fileName} is not a regular file`, "bad_output");
  const bytes = await readFile(file);
  if (bytes.length < 16 || !bytes.subarray(0, 4).equals(ELF_MAGIC)) {
    throw new BuildFailure(`${fileName} is not an ELF object (${bytes.length} bytes, no \\x7fELF header)`, "bad_output");
  }
  return { bytes, moduleName, fileName };
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}
