// Objects for the livepatch tests, compiled from small C files by the machine's gcc with the
// kernel's code model, and binutils to check what lib/livepatch writes.
import { execFile } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { diffObjects, type ObjectDiff } from "@/lib/livepatch/compare";
import { STT, readElf } from "@/lib/livepatch/elf";
import { baseName } from "@/lib/livepatch/kernel-object";
import { buildPatchObject, type PatchObjectResult, type Reach, type SymbolRef } from "@/lib/livepatch/patch-object";
import { UnresolvedSymbol } from "@/lib/livepatch/symbols";
import { lineMatches } from "@/lib/text";

const run = promisify(execFile);

export const GCC_FLAGS = ["-O2", "-ffunction-sections", "-fdata-sections", "-fno-pic", "-mcmodel=kernel", "-fno-asynchronous-unwind-tables", "-c"];

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `splicer-lp-${prefix}-`));
}

/** Compiles `source` as `<dir>/<name>.c` into `<dir>/<name>.o` and returns the object's path and bytes. */
export async function compile(dir: string, name: string, source: string): Promise<{ path: string; bytes: Buffer }> {
  const c = path.join(dir, `${name}.c`);
  const o = path.join(dir, `${name}.o`);
  await fs.writeFile(c, source);
  await run("gcc", [...GCC_FLAGS, c, "-o", o], { cwd: dir });
  return { path: o, bytes: await fs.readFile(o) };
}

/** Runs a binutils tool; its stdout, and its stderr (readelf reports problems there without failing). */
export async function tool(cmd: string, args: string[], cwd?: string): Promise<{ stdout: string; stderr: string }> {
  const { stdout, stderr } = await run(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024 });
  return { stdout, stderr };
}

export async function writeTemp(dir: string, name: string, bytes: Buffer): Promise<string> {
  const p = path.join(dir, name);
  await fs.writeFile(p, bytes);
  return p;
}

export interface ReadelfSymbol {
  num: number;
  value: string;
  size: number;
  type: string;
  bind: string;
  ndx: string;
  name: string;
}

/** `readelf -sW` rows of the .symtab (the Ndx column may be `OS [0xff20]`, with a space). */
export function parseSymbols(readelfS: string): ReadelfSymbol[] {
  const row = /^\s*(\d+): ([0-9a-f]+)\s+(\d+)\s+(\w+)\s+(\w+)\s+(\w+)\s+(UND|ABS|COM|\d+|OS \[0x[0-9a-f]+\]|PRC \[0x[0-9a-f]+\])\s?(.*)$/;
  return lineMatches(readelfS, row).map((m) => ({ num: Number(m[1]), value: m[2] as string, size: Number(m[3]), type: m[4] as string, bind: m[5] as string, ndx: m[7] as string, name: m[8] as string }));
}

export interface ReadelfSection {
  nr: number;
  name: string;
  type: string;
  flags: string;
  link: number;
  info: number;
}

/** `readelf -SW` rows. */
export function parseSections(readelfS: string): ReadelfSection[] {
  const row = /^\s*\[\s*(\d+)\] (\S+)\s+(\w+)\s+[0-9a-f]{16} [0-9a-f]{6} [0-9a-f]{6} [0-9a-f]{2}\s+([A-Za-z]*)\s+(\d+)\s+(\d+)\s+\d+$/;
  return lineMatches(readelfS, row).map((m) => ({ nr: Number(m[1]), name: m[2] as string, type: m[3] as string, flags: m[4] as string, link: Number(m[5]), info: Number(m[6]) }));
}

/** `readelf -rW` relocation sections: name → the symbol (plus addend) column of each entry. */
export function parseRelocations(readelfR: string): Map<string, { type: string; target: string }[]> {
  const out = new Map<string, { type: string; target: string }[]>();
  let current: { type: string; target: string }[] | undefined;
  for (const line of readelfR.split("\n")) {
    const head = /^Relocation section '([^']+)'/.exec(line);
    if (head) {
      current = [];
      out.set(head[1] as string, current);
      continue;
    }
    const m = /^[0-9a-f]{16}\s+[0-9a-f]{16}\s+(R_X86_64_\w+)\s+[0-9a-f]{16}\s+(.*)$/.exec(line);
    if (m && current) current.push({ type: m[1] as string, target: (m[2] as string).trim() });
  }
  return out;
}

// A translation unit like the ones live patches change: `show` calls a static function, uses a
// static variable and a static local, an exported function and a non-exported global of its own
// file. The patch changes show's string, makes it use a new variable and a new function (whose
// static local, being after show, renumbers show's: `counter.0` → `counter.1`) and a WARN_ONCE-like
// flag in the shared `.data.once` section.
const SHOW_COMMON = `extern int printk(const char *fmt, ...);
extern int exported_fn(int);
static int state;
static int __attribute__((noinline, noclone)) helper(int x) { return x * 3 + state; }
void __attribute__((noinline)) set_state(int v) { state = v; }
int other_once(void) { static int __attribute__((section(".data.once"))) done; if (!done) { done = 1; return printk("once\\n"); } return 0; }
`;
export const SHOW_PRE = `${SHOW_COMMON}
int show(int x) {
  static int counter;
  static int __attribute__((section(".data.once"))) warned;
  counter++;
  if (!warned) { warned = 1; set_state(x); }
  return printk("old %d\\n", helper(x) + counter) + exported_fn(x) + state;
}
`;
export const SHOW_POST = `${SHOW_COMMON}
int new_total = 7;
int __attribute__((noinline)) fresh(void);
int show(int x) {
  static int counter;
  static int __attribute__((section(".data.once"))) warned;
  counter++;
  if (!warned) { warned = 1; set_state(x); }
  new_total += fresh();
  return printk("new %d %d\\n", helper(x) + counter, new_total) + exported_fn(x) + state;
}
int __attribute__((noinline)) fresh(void) { static int counter; return ++counter; }
`;

/** A resolver over a fixed table that records what it is asked: exports, else vmlinux symbols at a sympos. */
export function recordingResolver(opts: { exports: Iterable<string>; sympos: Record<string, number>; object?: string }) {
  const exports = new Set(opts.exports);
  const asked: SymbolRef[] = [];
  const resolve = (ref: SymbolRef): Reach => {
    asked.push(ref);
    if (exports.has(ref.name)) return { kind: "export" };
    const pos = opts.sympos[ref.name];
    if (pos === undefined) throw new UnresolvedSymbol(`${ref.name} is not in vmlinux's symbol table`, ref.name);
    return { kind: "klp", object: opts.object ?? "vmlinux", name: ref.name, sympos: pos };
  };
  return { asked, resolve };
}

/** The pre object's name of the static local `base` (GCC's number varies with the compiler). */
export function localName(diff: ObjectDiff, side: "pre" | "post", base: string, fn: string): string {
  const idx = diff[side];
  const text = idx.obj.sections.find((s) => s.name === `.text.${fn}`);
  const relas = idx.relaOf.get(text as never)?.relas ?? [];
  const all = idx.obj.symbols.filter((s) => s.type === STT.OBJECT && baseName(s.name) === base && s.name !== base);
  if (all.length === 1) return (all[0] as { name: string }).name;
  for (const s of all) {
    // The one whose section (or shared section) the function's relocations point at.
    if (relas.some((r) => r.sym === s || (r.sym.type === STT.SECTION && r.sym.section === s.section && (idx.definedIn.get(s.section as never) ?? []).length === 1))) return s.name;
  }
  throw new Error(`no static local ${base} in ${fn} (${side})`);
}

export const SHOW_EXPORTS = ["printk", "exported_fn"];

/** SHOW_PRE → SHOW_POST compiled in `dir`, diffed, and built into a patch object. */
export async function buildShowPatch(dir: string, sympos?: (diff: ObjectDiff) => Record<string, number>) {
  const pre = await compile(dir, "show-pre", SHOW_PRE);
  const post = await compile(dir, "show-post", SHOW_POST);
  const diff = diffObjects(readElf(pre.bytes), readElf(post.bytes));
  const names = {
    counterPre: localName(diff, "pre", "counter", "show"),
    counterPost: localName(diff, "post", "counter", "show"),
    warnedPre: localName(diff, "pre", "warned", "show"),
    warnedPost: localName(diff, "post", "warned", "show"),
  };
  const table = sympos?.(diff) ?? { show: 1, helper: 2, state: 0, set_state: 0, [names.counterPre]: 3, [names.warnedPre]: 0 };
  const resolver = recordingResolver({ exports: SHOW_EXPORTS, sympos: table });
  const result: PatchObjectResult = buildPatchObject({ diff, object: "vmlinux", resolve: resolver.resolve });
  return { pre, post, diff, result, asked: resolver.asked, names };
}
