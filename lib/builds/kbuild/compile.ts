import "server-only";
// Compiling one translation unit of a prepared release tree, before and after a patch, with
// kbuild itself (`make <dir>/<file>.o`), so the object is built with exactly the flags, objtool
// passes and config the release was built with, plus function and data sections for the diff.
//
// The tree is shared by every build of the release: one build at a time holds it (withTree), the
// patched text is written in place only while compiling and a journal restores the original if
// the process dies in between.
import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { readFileIfExists } from "@/lib/files";
import { formatMs, passedEnv, runProcess } from "@/lib/builds/builders/process";
import { acquireLock } from "@/lib/builds/release/lock";
import { BuildFailure } from "@/lib/builds/types";

export const SECTION_CFLAGS = "-ffunction-sections -fdata-sections";

export type CompileResult =
  | { kind: "ok"; object: string; path: string; ms: number; cached: boolean }
  | { kind: "not_built" }
  | { kind: "error"; errors: string[] };

export interface TreeContext {
  tree: string;
  /** KERNELRELEASE=R and R's compiler, for every make in the tree. */
  makeArgs: string[];
  signal: AbortSignal;
  log: (line: string) => void;
  timeoutMs: number;
  make?: string[];
}

const JOURNAL = ".splicer-journal.json";
const PRE_CACHE = ".splicer-pre";
const locks = new Map<string, Promise<void>>();

/**
 * Runs `fn` holding the tree: builds of this process queue in order, and other processes sharing
 * the cache directory (a console and a build worker with one data dir) wait on a lock directory
 * beside the tree, the release preparation's kind (a dead holder's lock is taken over).
 */
export async function withTree<T>(ctx: TreeContext, fn: () => Promise<T>): Promise<T> {
  const previous = locks.get(ctx.tree) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const chained = previous.then(() => mine);
  locks.set(ctx.tree, chained);
  try {
    await previous;
    const held = await acquireLock({ lockDir: `${ctx.tree}.lock`, signal: ctx.signal, onWait: (owner) => ctx.log(`waiting for the release tree: ${owner} is compiling in it`) });
    try {
      await recoverJournal(ctx);
      return await fn();
    } finally {
      await held.release();
    }
  } finally {
    release();
    if (locks.get(ctx.tree) === chained) locks.delete(ctx.tree);
  }
}

/** Puts back a file a killed build left patched. */
export async function recoverJournal(ctx: Pick<TreeContext, "tree" | "log">): Promise<void> {
  const raw = await readFileIfExists(path.join(ctx.tree, JOURNAL));
  if (!raw) return;
  const j = JSON.parse(raw.toString("utf8")) as { file: string; saved: string };
  await copyFile(path.join(ctx.tree, j.saved), path.join(ctx.tree, j.file));
  await rm(path.join(ctx.tree, j.file.replace(/\.c$/, ".o")), { force: true });
  await rm(path.join(ctx.tree, JOURNAL), { force: true });
  ctx.log(`restored ${j.file} in the release tree (an earlier build was interrupted while it was patched)`);
}

const objectOf = (file: string) => file.replace(/\.c$/, ".o");

/** The object a unit goes into, from kbuild's command file: a module's name (-DMODULE) or vmlinux. */
export function objectFromCmd(cmd: string): string {
  if (!/\s-DMODULE(\s|$)/.test(cmd)) return "vmlinux";
  const m = /-DKBUILD_MODNAME='"([^"]+)"'/.exec(cmd) ?? /KBUILD_MODNAME=kmod_([A-Za-z0-9_]+)/.exec(cmd);
  if (!m) throw new Error("kbuild's command line names no module (KBUILD_MODNAME)");
  return m[1] as string;
}

/** The compiler's error lines (and the lines naming where), for "does not compile alone". */
export function compilerErrors(lines: string[]): string[] {
  const out = lines.filter((l) => /\berror\b:/.test(l) && !/^make(\[\d+\])?: \*\*\*/.test(l)).map((l) => l.trim());
  return out.length > 0 ? [...new Set(out)].slice(0, 10) : lines.filter((l) => l.trim() !== "").slice(-5);
}

async function make(ctx: TreeContext, target: string): Promise<{ ok: boolean; lines: string[]; notBuilt: boolean }> {
  const argv = ctx.make ?? ["make"];
  const args = [...argv.slice(1), "-C", ctx.tree, ...ctx.makeArgs, `KCFLAGS=${SECTION_CFLAGS}`, target];
  const lines: string[] = [];
  const run = await runProcess(argv[0] as string, args, { cwd: ctx.tree, env: { ...passedEnv(), LC_ALL: "C" }, signal: ctx.signal, timeoutMs: ctx.timeoutMs, maxLogBytes: 512 * 1024, log: (l) => lines.push(l) });
  if (run.kind === "spawn-error") throw new Error(`cannot run ${argv[0]}: ${run.error.message}`, { cause: run.error });
  if (run.kind === "timeout") throw new BuildFailure(`make ${target} timed out after ${formatMs(ctx.timeoutMs)}; killed`, "timeout");
  if (run.kind === "aborted") throw new BuildFailure("build aborted (the console is shutting down or the build was cancelled); killed", "timeout");
  const notBuilt = lines.some((l) => l.includes(`No rule to make target '${target}'`));
  return { ok: run.code === 0 && !run.signal, lines, notBuilt };
}

/**
 * Compiles `file` (a .c path relative to the tree) as the release has it (`text` undefined; the
 * object is cached per source hash) or with `text` in its place, and copies the object to `out`.
 */
export async function compileUnit(ctx: TreeContext, opts: { file: string; text?: string; out: string }): Promise<CompileResult> {
  const src = path.join(ctx.tree, opts.file);
  const obj = objectOf(opts.file);
  const original = await readFile(src);
  const started = Date.now();
  if (opts.text === undefined) {
    const key = createHash("sha256").update(original).update(SECTION_CFLAGS).digest("hex").slice(0, 16);
    const cached = path.join(ctx.tree, PRE_CACHE, `${opts.file.replace(/\//g, "__")}.${key}`);
    const cachedObject = await readFileIfExists(`${cached}.o`);
    const cachedOwner = await readFileIfExists(`${cached}.object`);
    if (cachedObject && cachedOwner) {
      await writeFile(opts.out, cachedObject);
      return { kind: "ok", object: cachedOwner.toString("utf8"), path: opts.out, ms: Date.now() - started, cached: true };
    }
    const r = await compileInPlace(ctx, obj, opts.out);
    if (r.kind === "ok") {
      await mkdir(path.dirname(cached), { recursive: true });
      await copyFile(opts.out, `${cached}.o.tmp`);
      await rename(`${cached}.o.tmp`, `${cached}.o`);
      await writeFile(`${cached}.object`, r.object);
    }
    return r.kind === "ok" ? { ...r, ms: Date.now() - started, cached: false } : r;
  }
  const saved = path.join(PRE_CACHE, "journal-original.c");
  await mkdir(path.join(ctx.tree, PRE_CACHE), { recursive: true });
  await writeFile(path.join(ctx.tree, saved), original);
  await writeFile(path.join(ctx.tree, JOURNAL), JSON.stringify({ file: opts.file, saved }));
  try {
    await writeFile(src, opts.text);
    const r = await compileInPlace(ctx, obj, opts.out);
    return r.kind === "ok" ? { ...r, ms: Date.now() - started, cached: false } : r;
  } finally {
    await writeFile(src, original);
    await rm(path.join(ctx.tree, obj), { force: true });
    await rm(path.join(ctx.tree, JOURNAL), { force: true });
  }
}

async function compileInPlace(ctx: TreeContext, obj: string, out: string): Promise<{ kind: "ok"; object: string; path: string } | { kind: "not_built" } | { kind: "error"; errors: string[] }> {
  await rm(path.join(ctx.tree, obj), { force: true });
  const r = await make(ctx, obj);
  if (r.notBuilt) return { kind: "not_built" };
  if (!r.ok) return { kind: "error", errors: compilerErrors(r.lines) };
  const cmdFile = path.join(ctx.tree, path.dirname(obj), `.${path.basename(obj)}.cmd`);
  const cmd = (await readFile(cmdFile, "utf8")).split("\n")[0] ?? "";
  await copyFile(path.join(ctx.tree, obj), out);
  return { kind: "ok", object: objectFromCmd(cmd), path: out };
}
