import "server-only";
// The pre-patch kernel source a build needs, from a source tree or a source tarball (Debian's
// /usr/src/linux-source-6.1.tar.xz). A tarball is never unpacked whole (1.4 GB): only the
// directories a patch touches, with their Makefiles and local headers, and the top Makefile (for
// the version). Extracted directories are cached under the cache dir, keyed by the tarball's path,
// size and mtime, so each is extracted once; decompressing the archive is the slow part (~15 s).
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile, access } from "node:fs/promises";
import path from "node:path";
import { BuildFailure } from "@/lib/builds/types";
import { formatMs, passedEnv, runProcess } from "@/lib/builds/builders/process";

export const TARBALL_RE = /\.tar(\.(xz|gz|bz2|zst))?$|\.t[gx]z$/;

export interface SourceTree {
  /** Directory holding the kernel tree (tree-relative paths resolve against it). */
  root: string;
  /** Where it came from, for the log. */
  origin: string;
}

export interface SourceOptions {
  /** A directory or tarball path; {release} is substituted. */
  location: string;
  cacheDir: string;
  /** Tree-relative directories whose files are needed ("" is the top directory). */
  dirs: string[];
  signal: AbortSignal;
  timeoutMs: number;
  log: (line: string) => void;
}

export async function kernelSource(opts: SourceOptions): Promise<SourceTree> {
  if (!TARBALL_RE.test(opts.location)) {
    if (!(await isDir(opts.location))) throw new BuildFailure(`no kernel source at ${opts.location}`, "failed");
    return { root: opts.location, origin: opts.location };
  }
  let st;
  try {
    st = await stat(opts.location);
  } catch {
    throw new BuildFailure(`no kernel source tarball at ${opts.location}`, "failed");
  }
  const key = createHash("sha256").update(`${path.resolve(opts.location)}\0${st.size}\0${st.mtimeMs}`).digest("hex").slice(0, 16);
  const base = path.join(opts.cacheDir, "kernel-source", key);
  const root = path.join(base, "tree");
  const done = path.join(base, "extracted");
  await mkdir(done, { recursive: true });
  const missing: string[] = [];
  for (const dir of new Set(opts.dirs)) if (!(await exists(path.join(done, marker(dir))))) missing.push(dir);
  if (missing.length > 0) await extract(opts, base, root, done, missing);
  return { root, origin: opts.location };
}

function marker(dir: string): string {
  return encodeURIComponent(dir === "" ? "(top)" : dir);
}

/** Extracts the files directly inside each directory (not subdirectories) in one pass over the archive. */
async function extract(opts: SourceOptions, base: string, root: string, done: string, dirs: string[]): Promise<void> {
  const tmp = await mkdtemp(path.join(base, "tmp-"));
  try {
    // The archive's first component (linux-source-6.1/) is dropped; `*` does not cross `/`.
    // --no-recursion: a matching directory entry must not pull in its whole subtree. Each member
    // matches one pattern at most, so the patterns must not overlap; the top directory is only
    // wanted for its Makefile (the version).
    const patterns = dirs.map((d) => (d === "" ? "*/Makefile" : `*/${d}/*`));
    const args = ["-x", "-f", opts.location, "-C", tmp, "--strip-components=1", "--wildcards", "--no-wildcards-match-slash", "--no-recursion", "--no-same-owner", ...patterns];
    opts.log(`extracting ${dirs.map((d) => d || "(top directory)").join(", ")} from ${opts.location} (cached for later builds)`);
    const started = Date.now();
    const lines: string[] = [];
    const result = await runProcess("tar", args, {
      cwd: tmp,
      env: passedEnv(),
      signal: opts.signal,
      timeoutMs: opts.timeoutMs,
      maxLogBytes: 64 * 1024,
      log: (line) => lines.push(line),
    });
    if (result.kind === "spawn-error") throw new Error(`cannot run tar: ${result.error.message}`, { cause: result.error });
    if (result.kind === "timeout") throw new BuildFailure(`extracting kernel source timed out after ${formatMs(opts.timeoutMs)}`, "timeout");
    if (result.kind === "aborted") throw new BuildFailure("build aborted while extracting kernel source", "timeout");
    const notFound = new Set(lines.flatMap((l) => /^tar: \*\/(.*)\/\*: Not found in archive/.exec(l)?.[1] ?? []));
    if (lines.some((l) => /^tar: \*\/Makefile: Not found in archive/.test(l))) notFound.add("");
    if (result.code !== 0 && (notFound.size === 0 || lines.some((l) => /^tar: /.test(l) && !/Not found in archive|Exiting with failure status/.test(l)))) {
      throw new BuildFailure(`tar failed extracting from ${opts.location} (status ${result.code}):\n${lines.slice(-10).join("\n")}`, "failed");
    }
    opts.log(`extracted in ${formatMs(Date.now() - started)}`);
    for (const file of await filesUnder(tmp)) {
      const target = path.join(root, path.relative(tmp, file));
      await mkdir(path.dirname(target), { recursive: true });
      // Atomic per file: a concurrent build extracting the same directory writes the same bytes.
      await rename(file, target);
    }
    for (const dir of dirs) {
      if (notFound.has(dir)) continue;
      await writeFile(path.join(done, marker(dir)), "");
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/** Directories of the files a C file includes with quotes (`#include "internal.h"`), tree-relative. */
export function quotedIncludeDirs(filePath: string, text: string): string[] {
  const dir = path.posix.dirname(filePath);
  const out = new Set<string>();
  for (const m of text.matchAll(/^[ \t]*#[ \t]*include[ \t]+"([^"]+)"/gm)) {
    const target = path.posix.normalize(path.posix.join(dir, m[1] as string));
    if (target.startsWith("../") || path.posix.isAbsolute(target)) continue;
    const d = path.posix.dirname(target);
    out.add(d === "." ? "" : d);
  }
  return [...out];
}
