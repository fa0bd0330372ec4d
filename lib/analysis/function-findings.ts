// Findings about a changed function. Replacing functions is what a live patch does, so a
// body change in a .c file is fine; what needs a person or a reboot is code that cannot be
// re-run (__init/__exit), code inlined into unknown callers (headers), and changes to how
// callers call it (its signature).
import type { FileContext, Touched } from "./c-file";
import { canonicalType, type Construct, type Signature } from "./constructs";
import type { Finding } from "./types";

type FunctionConstruct = Extract<Construct, { kind: "function" }>;

export function functionFindings(t: Touched, ctx: FileContext): Finding[] {
  const fn = (t.post ?? t.pre)?.construct as FunctionConstruct;
  const before = t.pre?.construct as FunctionConstruct | undefined;
  const symbol = fn.name;
  const at = { file: ctx.path, line: t.line, symbol };
  const out: Finding[] = [];

  if (t.change === "added") {
    out.push({ code: "function_added", impact: "none", message: `new function ${symbol}() is added: a live patch can carry new functions`, ...at });
  } else if (t.change === "removed") {
    out.push({
      code: "function_removed",
      impact: "review",
      message: `function ${symbol}() is removed: a live patch cannot remove it from the running kernel, so any caller the patch does not replace (another file, a module, a function pointer in existing data) keeps calling the old code`,
      ...at,
    });
  } else if (before?.signature && fn.signature && !sameSignature(before.signature, fn.signature)) {
    // Livepatch redirects calls to the old function into the new one, so every caller the
    // patch does not rebuild passes the old arguments and expects the old return type. This
    // includes pointers already stored in existing data (ops tables), which no patch can
    // update. kpatch's advice is the same: keep the signature and add a new function.
    out.push({
      code: "signature_changed",
      impact: "reboot",
      message: `${symbol}() changes its signature from ${signatureText(before)} to ${signatureText(fn)}: callers the live patch does not replace (function pointers in existing data, modules, inlined copies) would call it the old way; keep the signature and add a new function instead`,
      ...at,
    });
  }

  if (fn.macro && /SYSCALL_DEFINE/.test(fn.macro)) out.push(syscallNote(fn.macro, symbol, at));

  const init = fn.init ?? before?.init;
  if (init) {
    const when = init === "init" ? "at boot or module load" : "at module unload";
    out.push({
      code: init === "init" ? "init_code_changed" : "exit_code_changed",
      impact: "review",
      message: `${symbol}() is __${init} code: it runs only ${when}, and a live patch cannot re-run it; the change takes effect only after a reboot or module reload`,
      ...at,
    });
  }

  if (ctx.isHeader && t.change !== "added") {
    out.push({
      code: "header_inline_changed",
      impact: "review",
      message: `${fn.isInline ? "inline " : ""}function ${symbol}() in header ${ctx.path} is compiled into every file that includes it: the live patch must replace each function that inlined it`,
      ...at,
    });
  }

  for (const side of [t.post, t.pre]) {
    if (!side) continue;
    for (const i of side.changed) {
      const code = side.layout.code[i];
      const local = /^\s+static\s+(?!inline\b)[^(]*?(\w+)\s*(?:\[[^\]]*\])*\s*(?:=|;)/.exec(code);
      if (!local) continue;
      out.push({
        code: "static_local_changed",
        impact: "review",
        message: `${symbol}() changes its static local variable "${local[1]}": the running kernel's copy keeps its current value, a new initializer never applies`,
        file: ctx.path,
        line: side.image[i].line,
        symbol,
      });
    }
  }
  return out;
}

/** Equal parameter types, and equal return types where both headers showed one. */
function sameSignature(a: Signature, b: Signature): boolean {
  const returns = a.returnType === undefined || b.returnType === undefined || canonicalType(a.returnType) === canonicalType(b.returnType);
  return returns && a.params.map(canonicalType).join(",") === b.params.map(canonicalType).join(",");
}

/**
 * Where a system call's body is in the running kernel. x86's wrapper makes SYSCALL_DEFINE0's body
 * the function __do_sys_name (its entry point __x64_sys_name is an alias); SYSCALL_DEFINEn's is a
 * static inline __do_sys_name called only by __se_sys_name, itself called by the entry points.
 */
function syscallNote(macro: string, symbol: string, at: { file: string; line: number; symbol: string }): Finding {
  const base = symbol.replace(/^__do_/, "");
  const entries = /^COMPAT_/.test(macro) ? [`__ia32_${base}`, `__x32_${base}`] : [`__x64_${base}`, `__ia32_${base}`];
  const where = /SYSCALL_DEFINE0/.test(macro)
    ? `${symbol}() itself (${entries.join(" and ")} are aliases of it)`
    : `${symbol}() or, where the compiler inlined it, __se_${base}() or the entry points ${entries.join(" and ")}`;
  return { code: "syscall_body_changed", impact: "none", message: `${macro} defines the system call's body as ${symbol}(): in the running kernel its code is in ${where}`, ...at };
}

function signatureText(fn: FunctionConstruct): string {
  const sig = fn.signature;
  return sig ? `${sig.returnType ?? "…"} (${sig.params.join(", ")})` : "";
}
