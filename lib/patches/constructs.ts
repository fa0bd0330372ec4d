// What a region of C is, decided by tree-sitter on the region's header (plus, for struct,
// union and enum bodies, on the visible part of the body). Kernel macros that define
// functions or data (SYSCALL_DEFINE3, DEFINE_MUTEX, module_init…) are recognised by name
// first, since no C parser can know what they expand to.
import type { Parser } from "web-tree-sitter";
import { blankAnnotations, braceDelta, initAnnotation, normaliseCode } from "./c-lexical";
import { declaredName, parseTopLevel, type SyntaxNode } from "./c-parser";

export interface Signature {
  returnType: string;
  /** Parameter types without parameter names (renaming a parameter changes nothing). */
  params: string[];
}

export interface Member {
  name: string;
  type: string;
}

export interface Enumerator {
  name: string;
  value?: string;
}

export type Construct =
  | { kind: "function"; name: string; signature?: Signature; isStatic: boolean; isInline: boolean; init?: "init" | "exit" }
  | { kind: "record"; keyword: "struct" | "union"; name: string }
  | { kind: "enum"; name: string }
  | { kind: "typedef"; name: string }
  | { kind: "variable"; name: string; isStatic: boolean; isExtern: boolean; initialized: boolean; init?: "initdata" }
  | { kind: "prototype"; name: string }
  | { kind: "macro"; name: string }
  | { kind: "include"; name: string }
  | { kind: "macro-call"; macro: string; name: string }
  | { kind: "conditional"; name: string }
  | { kind: "unknown"; name: string };

/**
 * Classifies a definition from its header text: `static int foo(struct bar *b)`,
 * `struct sk_buff {`, `static const struct file_operations fops = {`, `#define X 1`…
 * Comments are already removed from the text.
 */
export function classifyHeader(parser: Parser, headerCode: string): Construct {
  const header = headerCode.trim();
  const compact = header.replace(/\s+/g, " ");
  const pre = /^#\s*(define|undef|include)\s*([<"]?[\w./-]+)/.exec(compact);
  if (pre) return pre[1] === "include" ? { kind: "include", name: pre[2] } : { kind: "macro", name: pre[2] };
  if (/^#/.test(compact)) return { kind: "conditional", name: compact.slice(0, 60) };

  const syscall = /^(COMPAT_)?SYSCALL_DEFINE\d\s*\(\s*(\w+)/.exec(compact);
  if (syscall) {
    // The body of SYSCALL_DEFINEn(name, …) is compiled as __do_sys_name, the symbol a livepatch replaces.
    return { kind: "function", name: `__do_${syscall[1] ? "compat_" : ""}sys_${syscall[2]}`, isStatic: false, isInline: false };
  }
  const dataMacro = /^(static\s+)?((?:DEFINE|DECLARE)_\w+)\s*\(([^)]*)/.exec(compact);
  if (dataMacro) {
    const args = dataMacro[3].split(",").map((a) => a.trim());
    const name = /PER_CPU/.test(dataMacro[2]) ? args[args.length - 1] : args[0];
    return { kind: "variable", name: name || dataMacro[2], isStatic: !!dataMacro[1], isExtern: false, initialized: true };
  }
  const cut = cutAtBody(header);
  const macroCall = /^([A-Za-z_]\w*)\s*\(\s*([^,)]*)/.exec(compact);
  if (macroCall && !cut.endsWith("{") && /^[A-Za-z_]\w*\s*\(/.test(compact) && /\)\s*;?$/.test(cut.trim())) {
    return { kind: "macro-call", macro: macroCall[1], name: macroCall[2].trim() || macroCall[1] };
  }
  if (macroCall && /^[A-Z][A-Z0-9_]*$/.test(macroCall[1]) && cut.endsWith("{")) {
    // BPF_CALL_2(bpf_foo, …) { … }: a function defined through a macro, named by its first argument.
    return { kind: "function", name: macroCall[2].trim(), isStatic: false, isInline: false };
  }

  const source = complete(blankAnnotations(cut));
  const node = parseTopLevel(parser, source).find((n) => n.type !== "ERROR" && n.type !== "comment");
  const fallback: Construct = { kind: "unknown", name: compact.slice(0, 60) };
  if (!node) return fallback;
  return fromNode(node, header) ?? fallback;
}

function fromNode(node: SyntaxNode, header: string): Construct | undefined {
  const storage = node.namedChildren.filter((c) => c?.type === "storage_class_specifier").map((c) => c?.text);
  const isStatic = storage.includes("static");
  switch (node.type) {
    case "function_definition": {
      const name = declaredName(node.childForFieldName("declarator"));
      if (!name) return undefined;
      const init = initAnnotation(header);
      return {
        kind: "function",
        name,
        signature: signatureOf(node),
        isStatic,
        isInline: storage.includes("inline") || /\b__always_inline\b/.test(header),
        ...(init === "init" || init === "exit" ? { init } : {}),
      };
    }
    case "struct_specifier":
    case "union_specifier":
    case "enum_specifier":
      return typeSpecifier(node);
    case "type_definition": {
      const name = declaredName(node.childForFieldName("declarator"));
      return name ? { kind: "typedef", name } : undefined;
    }
    case "declaration": {
      const type = node.childForFieldName("type");
      const declarator = node.childForFieldName("declarator");
      if (type && /^(struct|union|enum)_specifier$/.test(type.type) && type.childForFieldName("body") && !declarator) {
        return typeSpecifier(type);
      }
      if (!declarator) return undefined;
      const name = declaredName(declarator);
      if (!name) return undefined;
      if (declarator.type === "function_declarator" || (declarator.type === "pointer_declarator" && hasFunctionDeclarator(declarator))) {
        return { kind: "prototype", name };
      }
      const init = initAnnotation(header);
      return {
        kind: "variable",
        name,
        isStatic,
        isExtern: storage.includes("extern"),
        initialized: declarator.type === "init_declarator",
        ...(init === "initdata" ? { init } : {}),
      };
    }
    default:
      return undefined;
  }
}

function typeSpecifier(node: SyntaxNode): Construct | undefined {
  const name = node.childForFieldName("name")?.text ?? "(anonymous)";
  if (node.type === "enum_specifier") return { kind: "enum", name };
  return { kind: "record", keyword: node.type === "union_specifier" ? "union" : "struct", name };
}

function hasFunctionDeclarator(node: SyntaxNode): boolean {
  let n: SyntaxNode | null = node;
  while (n) {
    if (n.type === "function_declarator") return true;
    n = n.childForFieldName("declarator");
  }
  return false;
}

function signatureOf(fn: SyntaxNode): Signature | undefined {
  let declarator = fn.childForFieldName("declarator");
  let pointers = "";
  while (declarator && declarator.type !== "function_declarator") {
    if (declarator.type === "pointer_declarator") pointers += "*";
    declarator = declarator.childForFieldName("declarator");
  }
  const params = declarator?.childForFieldName("parameters");
  if (!declarator || !params) return undefined;
  const returnType = normaliseCode(`${fn.childForFieldName("type")?.text ?? ""}${pointers}`);
  const types = params.namedChildren
    .filter((p): p is SyntaxNode => p !== null && (p.type === "parameter_declaration" || p.type === "variadic_parameter"))
    .map((p) => {
      const name = declaredName(p.childForFieldName("declarator"));
      const text = p.text;
      return normaliseCode(name ? text.replace(new RegExp(`\\b${name}\\b`), "") : text);
    });
  return { returnType, params: types };
}

/** The header up to and including the `{` that opens its body (or its `;`). */
function cutAtBody(header: string): string {
  let parens = 0;
  for (let i = 0; i < header.length; i++) {
    const ch = header[i];
    if (ch === "(") parens++;
    else if (ch === ")") parens--;
    else if ((ch === "{" || ch === ";") && parens <= 0) return header.slice(0, i + 1);
  }
  return header;
}

/** Makes a header parse on its own: close what git truncated, then give it an empty body. */
function complete(cut: string): string {
  let text = cut.trimEnd();
  if (text.endsWith(";")) return text;
  const open = (text.match(/\(/g)?.length ?? 0) - (text.match(/\)/g)?.length ?? 0);
  if (!text.endsWith("{")) {
    text = text.replace(/,\s*$/, "") + ")".repeat(Math.max(0, open));
    text += /=\s*$/.test(text) ? " 0;" : " {";
  }
  return text.endsWith("{") ? `${text}}\n;` : text;
}

// --- bodies of struct, union and enum definitions -----------------------------------------

/**
 * Wraps the visible body lines of a struct/union in its header and balances the braces the
 * fragment cut off, so tree-sitter sees a whole definition; returns its fields in order.
 */
export function recordMembers(parser: Parser, headerCode: string, bodyCode: string[]): Member[] {
  const source = wrapBody(cutAtBody(blankAnnotations(headerCode)), bodyCode.map(blankAnnotations), "struct {");
  const top = parseTopLevel(parser, source)[0];
  const list = top && findDescendant(top, "field_declaration_list");
  if (!list) return [];
  const members: Member[] = [];
  collectFields(list, members);
  return members;
}

function collectFields(list: SyntaxNode, out: Member[]): void {
  for (const field of list.namedChildren) {
    if (!field || field.type !== "field_declaration") continue;
    const type = field.childForFieldName("type");
    const declarators = field.childrenForFieldName("declarator").filter((d): d is SyntaxNode => d !== null);
    if (declarators.length === 0) {
      // An anonymous struct/union: its fields are fields of the enclosing one.
      const inner = type?.childForFieldName("body");
      if (inner) collectFields(inner, out);
      continue;
    }
    const bits = field.namedChildren.find((c) => c?.type === "bitfield_clause")?.text ?? "";
    for (const d of declarators) {
      const name = declaredName(d);
      if (!name) continue;
      const typeText = type?.childForFieldName("body") ? `${type.type.replace("_specifier", "")} {…}` : (type?.text ?? "");
      out.push({ name, type: normaliseCode(`${typeText} ${d.text.replace(new RegExp(`\\b${name}\\b`), "")} ${bits}`) });
    }
  }
}

/** Enumerators of an enum from its visible body lines, in order. */
export function enumerators(parser: Parser, headerCode: string, bodyCode: string[]): Enumerator[] {
  const source = wrapBody(cutAtBody(blankAnnotations(headerCode)), bodyCode, "");
  const top = parseTopLevel(parser, source)[0];
  const list = top && findDescendant(top, "enumerator_list");
  if (!list) return [];
  return list.namedChildren
    .filter((e): e is SyntaxNode => e !== null && e.type === "enumerator")
    .map((e) => {
      const value = e.childForFieldName("value")?.text;
      return { name: e.childForFieldName("name")?.text ?? e.text, ...(value ? { value: normaliseCode(value) } : {}) };
    });
}

function wrapBody(header: string, body: string[], opener: string): string {
  let depth = 1;
  let lowest = 1;
  for (const line of body) {
    depth += braceDelta(line);
    lowest = Math.min(lowest, depth);
  }
  // Braces closed in the fragment but opened before it: reopen them right after the header.
  const missing = Math.max(0, 1 - lowest);
  const prefix = `${opener}\n`.repeat(opener ? missing : 0);
  const end = depth + missing;
  const suffix = "};\n".repeat(Math.max(0, end));
  const head = header.endsWith("{") ? header : `${header} {`;
  return `${head}\n${prefix}${body.join("\n")}\n${suffix}`;
}

function findDescendant(node: SyntaxNode, type: string): SyntaxNode | undefined {
  if (node.type === type) return node;
  for (const child of node.namedChildren) {
    const found = child && findDescendant(child, type);
    if (found) return found;
  }
  return undefined;
}
