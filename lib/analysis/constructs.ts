// What a region of C is, decided by tree-sitter on the region's header (plus, for struct,
// union and enum bodies, on the visible part of the body). Kernel macros that define
// functions or data (SYSCALL_DEFINE3, DEFINE_MUTEX, module_init…) are recognised by name
// first, since no C parser can know what they expand to.
import type { Parser } from "web-tree-sitter";
import { blankAnnotations, braceDelta, initAnnotation, normaliseCode } from "./c-lexical";
import { declaredIdentifier, declaredName, parseTopLevel, textWithout, type SyntaxNode } from "./c-parser";

export interface Signature {
  /** Undefined when the header seen starts at the function's name (its type is on the line before). */
  returnType?: string;
  /** Parameter types without parameter names (renaming a parameter changes nothing). */
  params: string[];
}

// The kernel's integer typedefs (include/uapi/asm-generic/int-ll64.h, linux/types.h) as the C
// types they stand for, so that respelling `const unsigned char *` as `const u8 *` is not read
// as a signature change: the compiled calling convention is the same.
const INTEGER_TYPEDEFS: Record<string, string> = {
  u8: "unsigned char", __u8: "unsigned char", uint8_t: "unsigned char", u_int8_t: "unsigned char", unchar: "unsigned char",
  s8: "signed char", __s8: "signed char", int8_t: "signed char",
  u16: "unsigned short", __u16: "unsigned short", uint16_t: "unsigned short", u_int16_t: "unsigned short", ushort: "unsigned short",
  s16: "short", __s16: "short", int16_t: "short",
  u32: "unsigned int", __u32: "unsigned int", uint32_t: "unsigned int", u_int32_t: "unsigned int", uint: "unsigned int",
  s32: "int", __s32: "int", int32_t: "int",
  u64: "unsigned long long", __u64: "unsigned long long", uint64_t: "unsigned long long", u_int64_t: "unsigned long long",
  s64: "long long", __s64: "long long", int64_t: "long long",
  ulong: "unsigned long",
};
const TYPEDEF_RE = new RegExp(`\\b(?:${Object.keys(INTEGER_TYPEDEFS).join("|")})\\b`, "g");

/** A type as the compiler sees it, for comparing: integer typedefs spelled out, `unsigned` made `unsigned int`. */
export function canonicalType(type: string): string {
  return normaliseCode(
    type
      .replace(TYPEDEF_RE, (t) => INTEGER_TYPEDEFS[t])
      .replace(/\b(short|long|long long) int\b/g, "$1")
      .replace(/\bsigned int\b/g, "int")
      .replace(/\bunsigned(?!\s+(?:char|short|int|long)\b)/g, "unsigned int"),
  );
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
  | {
      kind: "function";
      name: string;
      signature?: Signature;
      isStatic: boolean;
      isInline: boolean;
      init?: "init" | "exit";
      /** The kernel macro that defines it, as written: `SYSCALL_DEFINE2(sethostname)`. */
      macro?: string;
    }
  | { kind: "record"; keyword: "struct" | "union"; name: string }
  | { kind: "enum"; name: string }
  | { kind: "typedef"; name: string }
  | { kind: "variable"; name: string; isStatic: boolean; isExtern: boolean; initialized: boolean; init?: "initdata" }
  | { kind: "prototype"; name: string }
  | { kind: "macro"; name: string }
  | { kind: "include"; name: string }
  | { kind: "macro-call"; macro: string; name: string }
  | { kind: "conditional"; name: string }
  /** `name`: the text that could not be read; `why`: what git's context showed instead of a definition. */
  | { kind: "unknown"; name: string; why?: "label" | "cut" };

/** Macros that define a function named by their first argument, whose body follows (`{` on the next line). */
const FUNCTION_MACROS = /^(?:BPF_CALL_\d|DEFINE_IDTENTRY\w*)$/;

/**
 * Classifies a definition from its header text: `static int foo(struct bar *b)`,
 * `struct sk_buff {`, `static const struct file_operations fops = {`, `#define X 1`…
 * Comments are already removed from the text.
 */
export function classifyHeader(parser: Parser, headerCode: string): Construct {
  const header = headerCode.trim();
  const compact = header.replace(/\s+/g, " ");
  const include = /^#\s*include\s*([<"][^>"]*[>"]?|\S*)/.exec(compact);
  if (include) return { kind: "include", name: include[1] };
  const pre = /^#\s*(define|undef)\s*([\w./-]+)/.exec(compact);
  if (pre) return { kind: "macro", name: pre[2] };
  if (/^#/.test(compact)) return { kind: "conditional", name: compact.slice(0, 60) };

  const syscall = /^(COMPAT_)?SYSCALL_DEFINE(\d)\s*\(\s*(\w+)/.exec(compact);
  if (syscall) {
    // The body of SYSCALL_DEFINEn(name, …) is the function __do_sys_name (x86's syscall wrapper).
    const [, compat, args, name] = syscall;
    return { kind: "function", name: `__do_${compat ? "compat_" : ""}sys_${name}`, isStatic: true, isInline: args !== "0", macro: `${compat ?? ""}SYSCALL_DEFINE${args}(${name})` };
  }
  const cleanup = /^(DEFINE_FREE|DEFINE_CLASS|DEFINE_GUARD|DEFINE_LOCK_GUARD_\d)\s*\(\s*(\w+)/.exec(compact);
  if (cleanup) {
    // <linux/cleanup.h>: static inline helpers, __free_name or the class_name_ constructor/destructor pair.
    const [, macro, name] = cleanup;
    return { kind: "function", name: macro === "DEFINE_FREE" ? `__free_${name}` : `class_${name}_destructor`, isStatic: true, isInline: true, macro: `${macro}(${name})` };
  }
  const dataMacro = /^(static\s+)?((?:DEFINE|DECLARE)_(?!PCI_FIXUP_)\w+)\s*\(([^)]*)/.exec(compact);
  if (dataMacro) {
    const args = dataMacro[3].split(",").map((a) => a.trim());
    const name = /PER_CPU/.test(dataMacro[2]) ? args[args.length - 1] : args[0];
    return { kind: "variable", name: name || dataMacro[2], isStatic: !!dataMacro[1], isExtern: false, initialized: true };
  }
  const cut = cutAtBody(header);
  const call = /^([A-Za-z_]\w*)\s*\(\s*([^,)]*)/.exec(compact);
  const closed = /\)\s*;?$/.test(cut.trim());
  if (call && /^[A-Z][A-Z0-9_]*$/.test(call[1]) && (cut.endsWith("{") || FUNCTION_MACROS.test(call[1]))) {
    // BPF_CALL_2(bpf_foo, …) { … }: a function defined through a macro, named by its first argument.
    return { kind: "function", name: call[2].trim(), isStatic: false, isInline: false, macro: `${call[1]}(${call[2].trim()})` };
  }
  if (call && !cut.endsWith("{") && (/;\s*$/.test(cut) || (closed && !/[a-z]/.test(call[1])))) {
    // DECLARE_PCI_FIXUP_*(vendor, device, hook) registers its hook: name it by that, as there are many per vendor.
    const args = /\((.*)\)/.exec(compact)?.[1].split(",").map((a) => a.trim()) ?? [];
    const name = /^DECLARE_PCI_FIXUP_/.test(call[1]) && args.length > 0 ? args[args.length - 1] : call[2].trim();
    return { kind: "macro-call", macro: call[1], name: name || call[1] };
  }
  // `nfsd4_sequence(struct svc_rqst *rqstp, …` with no type: the return type is on the line
  // before (kernel style for long headers), so this is a function's name line, not a call.
  const typeBefore = !!call && /[a-z]/.test(call[1]);

  const source = complete(blankAnnotations(typeBefore ? `int ${cut}` : cut));
  const node = parseTopLevel(parser, source).find((n) => n.type !== "ERROR" && n.type !== "comment");
  const fallback: Construct = { kind: "unknown", name: compact.slice(0, 60) };
  if (!node) return fallback;
  const construct = fromNode(node, header) ?? fallback;
  if (typeBefore && construct.kind === "function" && construct.signature) construct.signature = { params: construct.signature.params };
  return construct;
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
    .map((p) => normaliseCode(textWithout(p, declaredIdentifier(p.childForFieldName("declarator")))));
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
      const id = declaredIdentifier(d);
      if (!id) continue;
      const typeText = type?.childForFieldName("body") ? `${type.type.replace("_specifier", "")} {…}` : (type?.text ?? "");
      out.push({ name: id.text, type: normaliseCode(`${typeText} ${textWithout(d, id)} ${bits}`) });
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
