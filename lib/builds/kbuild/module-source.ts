// Generates the C source of a livepatch module from the patched (post-patch) kernel source
// files, and refuses what such a module cannot do. Pure: text in, text out.
//
// The module holds, per patched file and in that file's order: its #include lines, its macros,
// its type definitions and explicit `extern` declarations, the static inline helpers the new code
// uses, and the new definitions of the changed functions, renamed `livepatch_<name>` and static;
// then a klp_func table per object (vmlinux, or the module that owns the file), a klp_patch and
// an init calling klp_enable_patch. Preprocessor conditionals around kept items are kept, so the
// file's own `#ifdef CONFIG_…` structure still decides what compiles.
//
// Reachability. A module links only against symbols the kernel exports (Module.symvers) and what
// it defines itself. Every identifier the kept code uses is classified with tree-sitter:
//   fine:     parameters and locals, macros, types, enum constants, struct fields (field
//             identifiers), what the module defines, static inline functions (of the file, which
//             are copied in, or of the headers), exported symbols;
//   refused:  static functions and variables of the patched file, its non-static definitions that
//             are not exported, and names the headers declare (extern/prototype) that are not
//             exported (e.g. saved_command_line);
//   unknown:  anything else (macros built by token pasting such as PageLocked or trace_*, names in
//             macro arguments that are really member names): logged, and left to the compiler and
//             modpost, whose "undefined!" errors the builder turns into the same refusal.
// Limits: the classification is by name, not by scope (a local variable that shadows a static of
// the file hides it), identifiers inside sizeof()/typeof() count as uses, ALL_CAPS names are
// taken for macros or enum constants, and a macro of the file that expands to a static symbol is
// only caught by the compiler.
import type { Parser } from "web-tree-sitter";
import { blankAnnotations, initAnnotation } from "@/lib/patches/c-lexical";
import { declaredName, type SyntaxNode } from "@/lib/patches/c-parser";
import type { FunctionChange } from "@/lib/patches/types";

export interface PatchedFile {
  /** Path in the kernel tree, e.g. fs/proc/cmdline.c. */
  path: string;
  /** The whole file after the patch. */
  text: string;
  /** The functions the analysis lists for this file. */
  functions: { name: string; change: FunctionChange }[];
  /** The klp_object: null for vmlinux, else the name of the module the file is built into. */
  object: string | null;
}

/** What the kernel headers of a release make available to a module without linking. */
export interface HeaderIndex {
  macros: Set<string>;
  inlines: Set<string>;
  enumerators: Set<string>;
  /** Functions and variables declared (extern, prototypes): linkable only if exported. */
  declared: Set<string>;
}

export interface SymbolTables {
  isExported: (name: string) => boolean;
  headers: HeaderIndex;
}

export interface ModuleInput {
  moduleName: string;
  patchId: string;
  kernelRelease: string;
  files: PatchedFile[];
  symbols: SymbolTables;
}

export interface Problem {
  file: string;
  /** The function whose new code needs it (when about a symbol). */
  function?: string;
  symbol?: string;
  message: string;
}

export interface ReplacedFunction {
  file: string;
  object: string | null;
  oldName: string;
  newName: string;
}

export interface GeneratedModule {
  source: string;
  replaced: ReplacedFunction[];
  /** Identifiers the classification could not place (left to the compiler), with their user. */
  unknown: { symbol: string; function: string; file: string }[];
}

export type ModuleResult = { ok: true; module: GeneratedModule } | { ok: false; problems: Problem[] };

export const NEW_FUNCTION_PREFIX = "livepatch_";

type DefKind = "function" | "variable" | "prototype" | "macro" | "type" | "enumerator" | "extern";

interface FileDef {
  kind: DefKind;
  name: string;
  isStatic: boolean;
  isInline: boolean;
  init?: "init" | "exit" | "initdata";
  node?: SyntaxNode;
}

/** Top-level items of one file, with what each defines. */
interface ParsedFile {
  file: PatchedFile;
  /** The text tree-sitter parsed: kernel annotations blanked, same offsets as file.text. */
  root: SyntaxNode;
  defs: Map<string, FileDef>;
}

export function generateModuleSource(parser: Parser, input: ModuleInput): ModuleResult {
  const problems: Problem[] = [];
  const unknown: GeneratedModule["unknown"] = [];
  const replaced: ReplacedFunction[] = [];
  const parsed = input.files.map((file) => parseFile(parser, file));
  const sections: string[] = [];

  for (const pf of parsed) {
    const { file, defs } = pf;
    // Names this file's part of the module defines, and what they are called there.
    const renames = new Map<string, string>();
    const kept = new Set<string>();
    for (const fn of file.functions) {
      const def = defs.get(fn.name);
      if (fn.change === "removed") {
        problems.push({ file: file.path, symbol: fn.name, message: `${fn.name}() is removed by the patch: a live patch cannot remove a function from the running kernel` });
        continue;
      }
      if (!def || def.kind !== "function" || !def.node) {
        problems.push({
          file: file.path,
          symbol: fn.name,
          message: `no definition of ${fn.name}() found in the patched ${file.path} (functions defined through macros, e.g. SYSCALL_DEFINE, are not supported by the kbuild builder)`,
        });
        continue;
      }
      if (def.init === "init" || def.init === "exit") {
        problems.push({ file: file.path, symbol: fn.name, message: `${fn.name}() is __${def.init} code: it runs only ${def.init === "init" ? "at boot or module load" : "at module unload"}, and a live patch cannot re-run it` });
        continue;
      }
      if (fn.change === "modified" && def.isInline) {
        problems.push({ file: file.path, symbol: fn.name, message: `${fn.name}() is inline: its callers carry their own copies, which a live patch of ${fn.name}() would not change` });
        continue;
      }
      kept.add(fn.name);
      if (fn.change === "modified") {
        const newName = `${NEW_FUNCTION_PREFIX}${fn.name}`;
        if (defs.has(newName)) {
          problems.push({ file: file.path, symbol: fn.name, message: `${file.path} already defines ${newName}, the name the live patch gives the new ${fn.name}()` });
          continue;
        }
        renames.set(fn.name, newName);
        replaced.push({ file: file.path, object: file.object, oldName: fn.name, newName });
      }
    }

    // Closure: the kept functions and the static inline helpers of this file they use.
    const queue = [...kept];
    while (queue.length > 0) {
      const name = queue.shift() as string;
      const def = defs.get(name) as FileDef;
      for (const use of uses(def.node as SyntaxNode)) {
        const verdict = classify(use.name, pf, kept, input.symbols);
        if (verdict.kind === "copy") {
          kept.add(use.name);
          queue.push(use.name);
        } else if (verdict.kind === "refuse") {
          problems.push({ file: file.path, function: name, symbol: use.name, message: `${name}() ${use.call ? "calls" : "uses"} ${use.name}${use.call ? "()" : ""}, ${verdict.why}` });
        } else if (verdict.kind === "unknown") {
          unknown.push({ symbol: use.name, function: name, file: file.path });
        }
      }
    }
    if (problems.length === 0) sections.push(emitFile(pf, kept, renames));
  }

  if (problems.length === 0 && replaced.length === 0) {
    problems.push({ file: input.files[0]?.path ?? "", message: "the patch changes no function that a live patch could replace" });
  }
  const clash = duplicateNames(replaced);
  if (clash) problems.push({ file: clash.file, symbol: clash.oldName, message: `${clash.oldName}() is changed in two files of the same object: the live patch cannot tell them apart` });
  if (problems.length > 0) return { ok: false, problems: dedupeProblems(problems) };

  return { ok: true, module: { source: assemble(input, sections, replaced), replaced, unknown: dedupeUnknown(unknown) } };
}

// --- parsing the patched file ---------------------------------------------------------------

function parseFile(parser: Parser, file: PatchedFile): ParsedFile {
  const tree = parser.parse(blankAnnotations(file.text));
  if (!tree) throw new Error(`tree-sitter could not parse ${file.path}`);
  const defs = new Map<string, FileDef>();
  const put = (def: FileDef) => {
    const old = defs.get(def.name);
    // A definition wins over a declaration of the same name.
    if (!old || (old.kind === "prototype" || old.kind === "extern") && def.kind !== "prototype" && def.kind !== "extern") defs.set(def.name, def);
  };
  for (const node of topLevelItems(tree.rootNode)) collectDefs(node, file.text, put);
  return { file, root: tree.rootNode, defs };
}

/** Top-level items, looking through preprocessor conditionals. */
function topLevelItems(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (const child of node.namedChildren) {
    if (!child) continue;
    if (isConditional(child)) out.push(...topLevelItems(child));
    else out.push(child);
  }
  return out;
}

function isConditional(node: SyntaxNode): boolean {
  return /^preproc_(if|ifdef|else|elif|elifdef)$/.test(node.type);
}

function storage(node: SyntaxNode): string[] {
  return node.namedChildren.filter((c) => c?.type === "storage_class_specifier").map((c) => (c as SyntaxNode).text);
}

function collectDefs(node: SyntaxNode, text: string, put: (d: FileDef) => void): void {
  const original = text.slice(node.startIndex, node.endIndex);
  switch (node.type) {
    case "function_definition": {
      const name = declaredName(node.childForFieldName("declarator"));
      if (!name) return;
      const body = node.childForFieldName("body");
      const header = text.slice(node.startIndex, body?.startIndex ?? node.endIndex);
      const st = storage(node);
      const init = initAnnotation(header);
      put({ kind: "function", name, isStatic: st.includes("static"), isInline: st.includes("inline") || /\b(__always_inline|inline|__inline__)\b/.test(header), ...(init ? { init } : {}), node });
      return;
    }
    case "declaration": {
      const st = storage(node);
      const type = node.childForFieldName("type");
      // static DEFINE_MUTEX(lock); DEFINE_PER_CPU(int, counter);: data defined through a macro.
      const dataMacro = /^(?:static\s+)?((?:DEFINE|DECLARE)_\w+)\s*\(([^)]*)\)/.exec(original.trim());
      if (dataMacro) {
        const args = dataMacro[2].split(",").map((a) => a.trim());
        const name = /PER_CPU/.test(dataMacro[1]) ? args[args.length - 1] : args[0];
        if (name && /^\w+$/.test(name)) put({ kind: "variable", name, isStatic: /^static\b/.test(original.trim()), isInline: false, node });
        return;
      }
      if (type && /^(struct|union|enum)_specifier$/.test(type.type) && type.childForFieldName("body")) collectTypeDefs(type, put);
      for (const d of node.childrenForFieldName("declarator")) {
        if (!d) continue;
        const name = declaredName(d);
        if (!name) continue;
        const isFunction = d.type === "function_declarator" || hasFunctionDeclarator(d);
        if (st.includes("extern")) put({ kind: "extern", name, isStatic: false, isInline: false, node });
        else if (isFunction) put({ kind: "prototype", name, isStatic: st.includes("static"), isInline: false, node });
        else {
          const init = initAnnotation(original);
          put({ kind: "variable", name, isStatic: st.includes("static"), isInline: false, ...(init ? { init } : {}), node });
        }
      }
      return;
    }
    case "preproc_def":
    case "preproc_function_def": {
      const name = node.childForFieldName("name")?.text;
      if (name) put({ kind: "macro", name, isStatic: false, isInline: false, node });
      return;
    }
    case "struct_specifier":
    case "union_specifier":
    case "enum_specifier":
      collectTypeDefs(node, put);
      return;
    case "type_definition": {
      for (const d of node.childrenForFieldName("declarator")) {
        const name = d && declaredName(d);
        if (name) put({ kind: "type", name, isStatic: false, isInline: false, node });
      }
      const type = node.childForFieldName("type");
      if (type && type.childForFieldName("body")) collectTypeDefs(type, put);
      return;
    }
    default:
      return;
  }
}

function collectTypeDefs(spec: SyntaxNode, put: (d: FileDef) => void): void {
  const name = spec.childForFieldName("name")?.text;
  if (name) put({ kind: "type", name, isStatic: false, isInline: false });
  if (spec.type !== "enum_specifier") return;
  for (const e of spec.childForFieldName("body")?.namedChildren ?? []) {
    const n = e?.type === "enumerator" ? e.childForFieldName("name")?.text : undefined;
    if (n) put({ kind: "enumerator", name: n, isStatic: false, isInline: false });
  }
}

function hasFunctionDeclarator(node: SyntaxNode): boolean {
  let n: SyntaxNode | null = node;
  while (n) {
    if (n.type === "function_declarator") return true;
    n = n.childForFieldName("declarator");
  }
  return false;
}

// --- what a function uses -------------------------------------------------------------------

interface Use {
  name: string;
  call: boolean;
}

/** Identifiers a function definition uses that it does not declare itself, in order, unique. */
export function uses(fn: SyntaxNode): Use[] {
  const locals = new Set<string>();
  const declarator = fn.childForFieldName("declarator");
  const ownName = declaredName(declarator);
  // Parameters and every local declaration, wherever in the body (by name, not by scope).
  visit(fn, (n) => {
    if (n.type === "parameter_declaration" || n.type === "declaration") {
      for (const d of n.childrenForFieldName("declarator")) {
        const name = d && declaredName(d);
        if (name) locals.add(name);
      }
    }
    return true;
  });
  const out = new Map<string, Use>();
  const body = fn.childForFieldName("body");
  if (!body) return [];
  visit(body, (n) => {
    // Preprocessor conditions inside a body name config macros, not symbols.
    if (n.type === "preproc_defined") return false;
    if (n.type !== "identifier") return true;
    const parent = n.parent;
    if (parent && /^preproc_(ifdef|elifdef)$/.test(parent.type) && parent.childForFieldName("name")?.id === n.id) return false;
    const name = n.text;
    if (name === ownName || locals.has(name) || /^[A-Z][A-Z0-9_]*$/.test(name) || name.startsWith("__builtin_")) return false;
    const call = parent?.type === "call_expression" && parent.childForFieldName("function")?.id === n.id;
    const seen = out.get(name);
    if (!seen) out.set(name, { name, call });
    else if (call) seen.call = true;
    return false;
  });
  return [...out.values()];
}

function visit(node: SyntaxNode, enter: (n: SyntaxNode) => boolean): void {
  if (!enter(node)) return;
  for (const c of node.namedChildren) if (c) visit(c, enter);
}

type Verdict = { kind: "fine" } | { kind: "copy" } | { kind: "refuse"; why: string } | { kind: "unknown" };

/** Where a name the new code uses comes from, and whether a module can reach it. */
function classify(name: string, pf: ParsedFile, kept: Set<string>, symbols: SymbolTables): Verdict {
  if (kept.has(name)) return { kind: "fine" };
  const where = pf.file.path;
  const def = pf.defs.get(name);
  if (def) {
    switch (def.kind) {
      case "macro":
      case "type":
      case "enumerator":
        return { kind: "fine" };
      case "function":
        if (def.isStatic && def.isInline && !def.init) return { kind: "copy" };
        if (def.isStatic) return { kind: "refuse", why: `a static function of ${where} that a module cannot call (it is not exported and not part of the patch)` };
        return symbols.isExported(name) ? { kind: "fine" } : { kind: "refuse", why: `which ${where} defines but does not export to modules (not in Module.symvers)` };
      case "variable":
        if (def.isStatic) return { kind: "refuse", why: `a static variable of ${where} that a module cannot reach (the module would get its own copy, not the running kernel's)` };
        return symbols.isExported(name) ? { kind: "fine" } : { kind: "refuse", why: `a variable ${where} defines but does not export to modules (not in Module.symvers)` };
      case "prototype":
        if (def.isStatic) return { kind: "refuse", why: `a static function of ${where} that a module cannot call (it is not exported and not part of the patch)` };
        break;
      case "extern":
        break;
    }
  }
  if (symbols.isExported(name)) return { kind: "fine" };
  const h = symbols.headers;
  if (h.macros.has(name) || h.inlines.has(name) || h.enumerators.has(name)) return { kind: "fine" };
  if (h.declared.has(name) || def) return { kind: "refuse", why: "which the kernel does not export to modules (declared in the headers, not in Module.symvers)" };
  return { kind: "unknown" };
}

// --- emitting -------------------------------------------------------------------------------

function emitFile(pf: ParsedFile, kept: Set<string>, renames: Map<string, string>): string {
  const { file } = pf;
  const text = file.text;
  const renameIn = (node: SyntaxNode): string => {
    const edits: { start: number; end: number; to: string }[] = [];
    visit(node, (n) => {
      if (n.type === "identifier" && renames.has(n.text)) edits.push({ start: n.startIndex, end: n.endIndex, to: renames.get(n.text) as string });
      return true;
    });
    let out = "";
    let at = node.startIndex;
    for (const e of edits.sort((a, b) => a.start - b.start)) {
      out += text.slice(at, e.start) + e.to;
      at = e.end;
    }
    return out + text.slice(at, node.endIndex);
  };
  const makeStatic = (code: string, node: SyntaxNode) => (storage(node).includes("static") ? code : `static ${code}`);
  const withSemicolon = (node: SyntaxNode, code: string) => (node.nextSibling?.type === ";" ? `${code};` : code);

  const emit = (node: SyntaxNode): string | undefined => {
    switch (node.type) {
      case "preproc_include":
      case "preproc_def":
      case "preproc_function_def":
      case "preproc_call":
        return text.slice(node.startIndex, node.endIndex).trimEnd();
      case "struct_specifier":
      case "union_specifier":
      case "enum_specifier":
        return withSemicolon(node, text.slice(node.startIndex, node.endIndex));
      case "type_definition":
        return text.slice(node.startIndex, node.endIndex);
      case "declaration": {
        const st = storage(node);
        const declarators = node.childrenForFieldName("declarator").filter((d): d is SyntaxNode => d !== null);
        const type = node.childForFieldName("type");
        if (st.includes("extern")) return text.slice(node.startIndex, node.endIndex);
        const fnNames = declarators.filter((d) => d.type === "function_declarator" || hasFunctionDeclarator(d)).map((d) => declaredName(d));
        if (fnNames.length > 0 && fnNames.length === declarators.length && fnNames.every((n) => n && kept.has(n))) {
          return makeStatic(renameIn(node), node);
        }
        // A type defined together with a variable (`struct foo { … } bar;`) keeps its type only.
        if (type && /^(struct|union|enum)_specifier$/.test(type.type) && type.childForFieldName("body")) {
          return `${text.slice(type.startIndex, type.endIndex)};`;
        }
        return undefined;
      }
      case "function_definition": {
        const name = declaredName(node.childForFieldName("declarator"));
        if (!name || !kept.has(name)) return undefined;
        const line = node.startPosition.row + 1;
        const from = renames.has(name) ? `the new ${name}() of ${file.path}:${line}, renamed` : `${file.path}:${line}`;
        return `/* ${from} */\n${makeStatic(renameIn(node), node)}`;
      }
      default:
        if (isConditional(node)) return emitConditional(node);
        return undefined;
    }
  };
  const emitChildren = (node: SyntaxNode, skip: Set<number>): string[] => {
    const parts: string[] = [];
    for (const c of node.namedChildren) {
      if (!c || skip.has(c.id)) continue;
      const part = emit(c);
      if (part !== undefined) parts.push(part);
    }
    return parts;
  };
  const emitConditional = (node: SyntaxNode): string => {
    const skip = new Set<number>();
    for (const field of ["name", "condition", "alternative"]) {
      const f = node.childForFieldName(field);
      if (f) skip.add(f.id);
    }
    const parts = [directiveLine(text, node), joinItems(emitChildren(node, skip))].filter((p) => p !== "");
    const alt = node.childForFieldName("alternative");
    if (alt) parts.push(emitConditional(alt));
    if (/^preproc_(if|ifdef)$/.test(node.type)) parts.push("#endif");
    return parts.join("\n");
  };

  const body = joinItems(emitChildren(pf.root, new Set()));
  return `/* ---- from ${file.path} (after the patch) ---- */\n\n${body}\n`;
}

/** Blank lines between items, except between consecutive one-line preprocessor directives. */
function joinItems(parts: string[]): string {
  const oneLine = (p: string) => /^#/.test(p) && !p.includes("\n");
  return parts.map((p, i) => (i === 0 ? p : `${oneLine(p) && oneLine(parts[i - 1] as string) ? "\n" : "\n\n"}${p}`)).join("");
}

/** The directive line a conditional starts with (`#ifdef CONFIG_X`, `#else`), with continuations. */
function directiveLine(text: string, node: SyntaxNode): string {
  const rest = text.slice(node.startIndex, node.endIndex);
  const lines = rest.split("\n");
  let out = lines[0] ?? "";
  for (let i = 1; i < lines.length && /\\\s*$/.test(lines[i - 1] ?? ""); i++) out += `\n${lines[i]}`;
  return out.trimEnd();
}

function cString(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

function assemble(input: ModuleInput, sections: string[], replaced: ReplacedFunction[]): string {
  const objects = new Map<string | null, ReplacedFunction[]>();
  for (const r of replaced) objects.set(r.object, [...(objects.get(r.object) ?? []), r]);
  const tables: string[] = [];
  const objectEntries: string[] = [];
  let i = 0;
  for (const [object, funcs] of objects) {
    const table = `splicer_funcs_${object === null ? "vmlinux" : object.replace(/\W/g, "_")}_${i++}`;
    tables.push(
      [
        `static struct klp_func ${table}[] = {`,
        ...funcs.map((f) => `\t{\n\t\t.old_name = ${cString(f.oldName)},\n\t\t.new_func = ${f.newName},\n\t},`),
        "\t{ }",
        "};",
      ].join("\n"),
    );
    objectEntries.push(`\t{\n\t\t/* ${object === null ? "vmlinux" : `module ${object}`} */\n\t\t.name = ${object === null ? "NULL" : cString(object)},\n\t\t.funcs = ${table},\n\t},`);
  }
  const files = input.files.map((f) => f.path).join(", ");
  return [
    "// SPDX-License-Identifier: GPL-2.0",
    `/*`,
    ` * ${input.moduleName}: live patch ${input.patchId} for ${input.kernelRelease},`,
    ` * generated by Splicer's kbuild builder from the patched ${files}.`,
    ` */`,
    "",
    ...sections,
    "/* ---- the live patch ---- */",
    "",
    "#include <linux/module.h>",
    "#include <linux/kernel.h>",
    "#include <linux/livepatch.h>",
    "",
    ...tables.map((t) => `${t}\n`),
    "static struct klp_object splicer_objs[] = {",
    ...objectEntries,
    "\t{ }",
    "};",
    "",
    "static struct klp_patch splicer_patch = {",
    "\t.mod = THIS_MODULE,",
    "\t.objs = splicer_objs,",
    "};",
    "",
    "static int splicer_livepatch_init(void)",
    "{",
    "\treturn klp_enable_patch(&splicer_patch);",
    "}",
    "",
    "static void splicer_livepatch_exit(void)",
    "{",
    "}",
    "",
    "module_init(splicer_livepatch_init);",
    "module_exit(splicer_livepatch_exit);",
    'MODULE_LICENSE("GPL");',
    'MODULE_INFO(livepatch, "Y");',
    `MODULE_DESCRIPTION(${cString(`Splicer live patch ${input.patchId}`)});`,
    "",
  ].join("\n");
}

function duplicateNames(replaced: ReplacedFunction[]): ReplacedFunction | undefined {
  const seen = new Set<string>();
  for (const r of replaced) {
    const key = `${r.object ?? ""}:${r.oldName}`;
    if (seen.has(key)) return r;
    seen.add(key);
  }
  return undefined;
}

function dedupeProblems(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => !seen.has(p.message) && (seen.add(p.message), true));
}

function dedupeUnknown(list: GeneratedModule["unknown"]): GeneratedModule["unknown"] {
  const seen = new Set<string>();
  return list.filter((u) => !seen.has(u.symbol) && (seen.add(u.symbol), true));
}
