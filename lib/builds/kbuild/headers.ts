import "server-only";
// What a release's kbuild headers tell the builder: where they are (Debian splits them into
// linux-headers-<release> and linux-headers-<ver>-common), the release's .config, the symbols
// the kernel exports to modules (Module.symvers), the kernel version they are for, and an index
// of the names the headers define as macros, static inline functions and enum constants, or
// declare as functions and variables (see module-source.ts for how these are used).
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { HeaderIndex } from "./module-source";

export interface KernelHeaders {
  dir: string;
  /** Debian's -common directory the release's Makefile includes, if any. */
  commonDir?: string;
  symversPath: string;
  exported: Set<string>;
  config: Map<string, string>;
  /** VERSION.PATCHLEVEL.SUBLEVEL of the headers' Makefile, e.g. 6.1.176. */
  version?: string;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch {
    return undefined;
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** `VERSION = 6`, `PATCHLEVEL = 1`, `SUBLEVEL = 192` → 6.1.192. */
export function makefileVersion(makefile: string): string | undefined {
  const get = (k: string) => new RegExp(`^${k}\\s*=\\s*(\\d+)\\s*$`, "m").exec(makefile)?.[1];
  const [v, p, s] = [get("VERSION"), get("PATCHLEVEL"), get("SUBLEVEL")];
  return v && p ? `${v}.${p}${s !== undefined ? `.${s}` : ""}` : undefined;
}

/** Module.symvers lines: `0xcrc<TAB>symbol<TAB>module<TAB>EXPORT_SYMBOL[_GPL]<TAB>namespace`. */
export function parseSymvers(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split("\n")) {
    const name = line.split("\t")[1];
    if (name) out.add(name);
  }
  return out;
}

/** `CONFIG_X=y`, `CONFIG_X=m`, `CONFIG_X="str"`; `# CONFIG_X is not set` is simply absent. */
export function parseKernelConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^(CONFIG_\w+)=(.*)$/gm)) out.set(m[1] as string, (m[2] as string).trim());
  return out;
}

/** Loads a release's headers directory; throws an Error naming what is missing. */
export async function loadKernelHeaders(dir: string): Promise<KernelHeaders> {
  const makefile = await readText(path.join(dir, "Makefile"));
  if (makefile === undefined) throw new Error(`no kbuild headers at ${dir} (no Makefile there)`);
  const include = /^include\s+(\S+)\/Makefile\s*$/m.exec(makefile)?.[1];
  const commonDir = include ? path.resolve(dir, include) : undefined;
  const commonMakefile = commonDir ? await readText(path.join(commonDir, "Makefile")) : undefined;
  const candidates = [path.join(dir, "Module.symvers"), ...(commonDir ? [path.join(commonDir, "Module.symvers")] : [])];
  let symversPath: string | undefined;
  for (const c of candidates) if (await isFile(c)) symversPath ??= c;
  if (!symversPath) throw new Error(`no Module.symvers in ${candidates.join(" or ")}: cannot tell which symbols the kernel exports`);
  const configText = await readText(path.join(dir, ".config"));
  if (configText === undefined) throw new Error(`no .config in ${dir}`);
  const version = makefileVersion(commonMakefile ?? makefile);
  return {
    dir,
    ...(commonDir ? { commonDir } : {}),
    symversPath,
    exported: parseSymvers(await readFile(symversPath, "utf8")),
    config: parseKernelConfig(configText),
    ...(version ? { version } : {}),
  };
}

// --- the header index -------------------------------------------------------------------------

const indexes = new Map<string, Promise<HeaderIndex>>();

/**
 * The names the headers of `headers` make available. Built by scanning include/ and the
 * release's arch include/ of both directories (~6,000 files, about a second), once per process.
 */
export function headerIndex(headers: KernelHeaders): Promise<HeaderIndex> {
  let p = indexes.get(headers.dir);
  if (!p) {
    p = buildHeaderIndex(headers).catch((err: unknown) => {
      indexes.delete(headers.dir);
      throw err;
    });
    indexes.set(headers.dir, p);
  }
  return p;
}

async function buildHeaderIndex(headers: KernelHeaders): Promise<HeaderIndex> {
  const index: HeaderIndex = { macros: new Set(), inlines: new Set(), enumerators: new Set(), declared: new Set() };
  const archs = await subdirs(path.join(headers.dir, "arch"));
  const roots = [headers.dir, ...(headers.commonDir ? [headers.commonDir] : [])].flatMap((d) => [
    path.join(d, "include"),
    ...archs.map((a) => path.join(d, "arch", a, "include")),
  ]);
  const files = (await Promise.all(roots.map(headerFiles))).flat();
  // Reading is most of the time: read many files at once.
  for (let i = 0; i < files.length; i += 128) {
    const texts = await Promise.all(files.slice(i, i + 128).map((f) => readFile(f, "utf8")));
    for (const text of texts) scanHeader(text, index);
  }
  return index;
}

async function subdirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

async function headerFiles(root: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".h"))
    .map((e) => path.join(e.parentPath, e.name))
    // include/config/ holds one empty file per option; nothing to learn there.
    .filter((f) => !f.includes(`${path.sep}include${path.sep}config${path.sep}`));
}

const ATTRIBUTE_CALLS = /^(__attribute__|__alloc_size|__realloc_size|__printf|__scanf|__section|__aligned|__acquires|__releases|__must_hold|__cond_acquires|__diag\w*|__no_sanitize\w*|__counted_by|__assume_aligned|__malloc|__nonstring)$/;
const KEYWORDS = new Set(["if", "while", "for", "switch", "return", "sizeof", "typeof", "__typeof__", "defined", "do", "else", "case"]);

/** Adds one header's names to the index. Regular expressions, not a parse: see module-source.ts. */
export function scanHeader(raw: string, index: HeaderIndex): void {
  const text = raw.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/[^\n]*/g, "");
  for (const m of text.matchAll(/^[ \t]*#[ \t]*define[ \t]+(\w+)/gm)) index.macros.add(m[1] as string);
  // Code outside macro bodies: drop #define lines with their continuations.
  const code = text.replace(/^[ \t]*#(?:[^\n]*\\\n)*[^\n]*/gm, "");
  // static inline definitions: the window from `static` to its `{` (a `;` or `=` makes it no definition).
  for (const m of code.matchAll(/\bstatic\b([^;{}=]*)([;{=])/g)) {
    const window = m[1] as string;
    if (m[2] !== "{" || !/\b(inline|__always_inline|__inline__|__inline|nokprobe_inline)\b/.test(window)) continue;
    for (const call of window.matchAll(/(\w+)\s*\(/g)) {
      const name = call[1] as string;
      if (ATTRIBUTE_CALLS.test(name) || KEYWORDS.has(name)) continue;
      index.inlines.add(name);
      break;
    }
  }
  for (const m of code.matchAll(/\benum\s*\w*\s*\{([^}]*)\}/g)) {
    for (const part of (m[1] as string).split(",")) {
      const name = /^\s*([A-Za-z_]\w*)/.exec(part)?.[1];
      if (name) index.enumerators.add(name);
    }
  }
  // extern variables and functions, and prototypes at the start of a line.
  for (const m of code.matchAll(/^[ \t]*extern\b([^;{}]*);/gm)) {
    const decl = m[1] as string;
    const fn = /(\w+)\s*\([^()]*(?:\([^()]*\)[^()]*)*\)[^()]*$/.exec(decl);
    const name = fn ? fn[1] : /(\w+)\s*(?:\[[^\]]*\]\s*)*(?:__\w+(?:\([^)]*\))?\s*)*$/.exec(decl.trim())?.[1];
    if (name && !KEYWORDS.has(name)) index.declared.add(name);
  }
  for (const m of code.matchAll(/^(?!static\b|typedef\b|extern\b|return\b|struct\s+\w+\s*\{|union\s+\w+\s*\{|enum\b)[A-Za-z_][\w \t*]*?\b(\w+)\s*\([^;{}]*\)[^;{}()]*;/gm)) {
    const name = m[1] as string;
    if (!KEYWORDS.has(name)) index.declared.add(name);
  }
}
