// Findings about everything in a C file that is not a function body: types, global data,
// macros and top-level macro invocations. Ksplice's rule decides the impact: a live patch
// replaces code, so anything that changes the layout or meaning of data that already
// exists in the running kernel rules it out.
import type { Parser } from "web-tree-sitter";
import type { FileContext, Side, Touched } from "./c-file";
import { normaliseCode } from "./c-lexical";
import { enumerators, recordMembers, type Construct, type Member } from "./constructs";
import type { Finding } from "./types";

export function dataFindings(parser: Parser, t: Touched, ctx: FileContext): Finding[] {
  const c = ((t.post ?? t.pre) as Side).construct;
  const at = { file: ctx.path, line: t.line, symbol: c.name };
  const where = ctx.isHeader ? `header ${ctx.path}` : ctx.path;
  switch (c.kind) {
    case "record":
      return recordFindings(parser, t, c.keyword, ctx);
    case "enum":
      return enumFindings(parser, t, ctx);
    case "typedef":
      if (t.change === "added") return [{ code: "type_added", impact: "none", message: `new type ${c.name} is added: no existing data has it`, ...at }];
      if (t.change === "removed") return [{ code: "type_removed", impact: "review", message: `typedef ${c.name} is removed: existing data of that type stays in the running kernel`, ...at }];
      return [{ code: "typedef_changed", impact: "reboot", message: `typedef ${c.name} changes: existing data of that type keeps its old layout and meaning`, ...at }];
    case "variable":
      return variableFindings(t, c, at);
    case "prototype":
      return ctx.isHeader
        ? [{ code: "header_declaration_changed", impact: "review", message: `declaration of ${c.name}() changes in ${where}: check that the definition and every caller change with it`, ...at }]
        : [];
    case "macro":
      if (t.change === "added") {
        // Only code written after it can use a new macro: those functions are in the patch.
        return [{ code: "macro_added", impact: "none", message: `new macro ${c.name} is defined: only code the patch changes can use it`, ...at }];
      }
      return [
        ctx.isHeader
          ? { code: "header_macro_changed", impact: "review", message: `macro ${c.name} changes in ${where}: every function in every file that uses it changes too, and they are not listed here`, ...at }
          : { code: "macro_changed", impact: "review", message: `macro ${c.name} changes: every function in ${ctx.path} that uses it changes too, and they are not listed here`, ...at },
      ];
    case "include":
      return [];
    case "macro-call":
      return [macroCallFinding(c, at)];
    case "conditional":
      return [{ code: "preprocessor_conditional_changed", impact: "review", message: `a preprocessor conditional changes (${c.name}): it decides which code is compiled`, ...at, symbol: undefined }];
    case "function":
      return [];
    case "unknown":
      return [{ code: "unrecognised_change", impact: "review", message: unrecognised(c, t.line, ctx.path), ...at, symbol: undefined }];
  }
}

function unrecognised(c: Extract<Construct, { kind: "unknown" }>, line: number, path: string): string {
  const where = `the change at line ${line} of ${path}`;
  if (c.why === "label") {
    return `${where} is inside a function, but git's function context shows only its goto label "${c.name}:" and the hunk does not show the function's header: could not tell which function changes`;
  }
  if (c.why === "cut") {
    return `could not tell what ${where} belongs to: git's function context "${c.name}" is cut short (diff -p keeps 40 characters of the line, git 80), so the name in it may be incomplete, and no hunk shows the whole line`;
  }
  if (c.name) return `could not tell what ${where} belongs to ("${c.name}"): review it by hand`;
  return `could not tell which definition ${where} belongs to: the hunk has no function context and shows no definition header`;
}

type Variable = Extract<Construct, { kind: "variable" }>;

function variableFindings(t: Touched, v: Variable, at: { file: string; line: number; symbol: string }): Finding[] {
  const name = v.name;
  if (v.init === "initdata" || (t.pre?.construct.kind === "variable" && t.pre.construct.init === "initdata")) {
    return [{ code: "init_data_changed", impact: "review", message: `"${name}" is __initdata: it is used only at boot or module load and freed afterwards; the live patch cannot re-run that`, ...at }];
  }
  if (v.isExtern) {
    return [{ code: "declaration_changed", impact: "review", message: `declaration of "${name}" changes: check that its definition changes with it`, ...at }];
  }
  if (t.change === "added") {
    return [{ code: "global_variable_added", impact: "review", message: `new ${v.isStatic ? "static" : "global"} variable "${name}": it lives in the patch module and starts from its initializer when the patch loads, not at boot; unpatched code cannot see it`, ...at }];
  }
  if (t.change === "removed") {
    return [{ code: "global_variable_removed", impact: "review", message: `variable "${name}" is removed: the running kernel keeps it and any code the patch does not replace still uses it`, ...at }];
  }
  const inInitializer = !headerChanged(t.pre) && !headerChanged(t.post);
  return [
    {
      code: "global_data_changed",
      impact: "reboot",
      message:
        v.initialized && inInitializer
          ? `the initializer of ${v.isStatic ? "static" : "global"} "${name}" changes: the running kernel keeps the data it booted with, and a live patch cannot rewrite existing data`
          : `the definition of ${v.isStatic ? "static" : "global"} variable "${name}" changes: existing data keeps its old type and value`,
      ...at,
    },
  ];
}

function macroCallFinding(c: Extract<Construct, { kind: "macro-call" }>, at: { file: string; line: number; symbol: string }): Finding {
  const call = `${c.macro}(${c.name === c.macro ? "" : c.name})`;
  if (/^(module_init|module_exit|\w*initcall\w*|__setup|early_param|core_param|__exitcall)$/.test(c.macro)) {
    return { ...at, code: "init_code_changed", impact: "review", message: `${call} registers code that runs only at boot or module load/unload: a live patch cannot re-run it` };
  }
  if (/^EXPORT_SYMBOL/.test(c.macro)) {
    return { ...at, code: "export_changed", impact: "review", message: `${call} changes which symbols modules can link against; loaded modules are not relinked by a live patch` };
  }
  if (/^MODULE_/.test(c.macro)) {
    return { ...at, code: "module_info_changed", impact: "none", message: `${call} is module metadata: no effect on running code` };
  }
  if (/^module_param/.test(c.macro)) {
    return { ...at, code: "module_param_changed", impact: "review", message: `${call} changes a module parameter, which is data set at load time` };
  }
  return { ...at, code: "top_level_macro_changed", impact: "review", message: `top-level ${call} changes: it may define functions or data that this analysis cannot see` };
}

// --- struct and union ---------------------------------------------------------------------

function recordFindings(parser: Parser, t: Touched, keyword: "struct" | "union", ctx: FileContext): Finding[] {
  const c = ((t.post ?? t.pre) as Side).construct;
  const type = `${keyword} ${c.name}`;
  const at = { file: ctx.path, line: t.line, symbol: type };
  if (t.change === "added") return [{ code: "type_added", impact: "none", message: `new ${type} is defined: no existing data has it`, ...at }];
  if (t.change === "removed") return [{ code: "type_removed", impact: "review", message: `${type} is removed: existing data of that type stays in the running kernel`, ...at }];

  const before = t.pre ? membersOf(parser, t.pre) : [];
  const after = t.post ? membersOf(parser, t.post) : [];
  const out: Finding[] = [];
  const layout = "changes the layout of existing data";
  const oldByName = new Map(before.map((m) => [m.name, m]));
  const newByName = new Map(after.map((m) => [m.name, m]));
  for (const m of after) {
    const old = oldByName.get(m.name);
    if (!old) out.push({ code: "struct_field_added", impact: "reboot", message: `${type} gains field "${m.name}": ${layout}`, ...at });
    else if (old.type !== m.type) {
      out.push({ code: "struct_field_retyped", impact: "reboot", message: `${type} field "${m.name}" changes type from ${old.type} to ${m.type}: ${layout}`, ...at });
    }
  }
  for (const m of before) {
    if (!newByName.has(m.name)) out.push({ code: "struct_field_removed", impact: "reboot", message: `${type} loses field "${m.name}": ${layout}`, ...at });
  }
  const keptOld = before.filter((m) => newByName.has(m.name)).map((m) => m.name);
  const keptNew = after.filter((m) => oldByName.has(m.name)).map((m) => m.name);
  if (keptOld.join() !== keptNew.join()) {
    out.push({ code: "struct_fields_reordered", impact: "reboot", message: `${type} reorders its fields: ${layout}`, ...at });
  }
  if (out.length === 0) {
    // Same fields, different text: attributes, alignment, packing, bit widths we could not see.
    out.push({ code: "struct_changed", impact: "reboot", message: `the definition of ${type} changes: it may change the layout of existing data`, ...at });
  }
  return out;
}

function membersOf(parser: Parser, side: Side): Member[] {
  return recordMembers(parser, side.headerCode, bodyCode(side));
}

function bodyCode(side: Side): string[] {
  const header = new Set(side.region.header);
  return side.region.lines.filter((i) => !header.has(i)).map((i) => side.layout.code[i]);
}

function headerChanged(side: Side | undefined): boolean {
  return !!side && side.region.header.some((i) => side.image[i].changed && side.layout.code[i].trim() !== "");
}

// --- enum ---------------------------------------------------------------------------------

function enumFindings(parser: Parser, t: Touched, ctx: FileContext): Finding[] {
  const c = ((t.post ?? t.pre) as Side).construct;
  const type = c.name === "(anonymous)" ? "an anonymous enum" : `enum ${c.name}`;
  const at = { file: ctx.path, line: t.line, symbol: `enum ${c.name}` };
  if (t.change === "added") return [{ code: "type_added", impact: "none", message: `new ${type} is defined: no existing data has it`, ...at }];
  if (t.change === "removed") return [{ code: "type_removed", impact: "review", message: `${type} is removed: existing values stay in the running kernel`, ...at }];

  const before = t.pre ? enumerators(parser, t.pre.headerCode, bodyCode(t.pre)) : [];
  const after = t.post ? enumerators(parser, t.post.headerCode, bodyCode(t.post)) : [];
  const oldByName = new Map(before.map((e) => [e.name, e]));
  const newNames = new Set(after.map((e) => e.name));
  const out: Finding[] = [];
  const meaning = "the running kernel keeps using the old values";
  for (const e of before) {
    if (!newNames.has(e.name)) out.push({ code: "enum_value_removed", impact: "reboot", message: `${type} loses ${e.name}: ${meaning}`, ...at });
  }
  after.forEach((e, index) => {
    const old = oldByName.get(e.name);
    if (old) {
      if ((old.value ?? "") !== (e.value ?? "")) {
        out.push({ code: "enum_value_changed", impact: "reboot", message: `${type}: ${e.name} changes value from ${old.value ?? "(implicit)"} to ${e.value ?? "(implicit)"}: ${meaning}`, ...at });
      }
      return;
    }
    // A new enumerator shifts the implicit values of every enumerator after it.
    const next = after.slice(index + 1).find((n) => oldByName.has(n.name));
    const endVisible = !!t.post && t.post.region.lines.some((i) => /^}/.test(t.post!.image[i].text));
    if ((next && next.value === undefined) || (!next && !endVisible)) {
      const shifted = next ? `${next.name} and the enumerators after it` : "the enumerators after it (not shown in the diff)";
      out.push({ code: "enum_values_shifted", impact: "reboot", message: `${type} gains ${e.name}, which shifts the value of ${shifted}: ${meaning}`, ...at });
    } else {
      out.push({ code: "enum_value_added", impact: "review", message: `${type} gains ${e.name} without changing existing values; code in the running kernel does not know the new value`, ...at });
    }
  });
  if (out.length === 0 && normaliseCode(bodyCode(t.pre as Side).join(" ")) !== normaliseCode(bodyCode(t.post as Side).join(" "))) {
    out.push({ code: "enum_changed", impact: "reboot", message: `the definition of ${type} changes: ${meaning}`, ...at });
  }
  return out;
}
