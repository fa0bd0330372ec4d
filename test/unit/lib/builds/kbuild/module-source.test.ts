import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Parser } from "web-tree-sitter";
import { applyFileDiff } from "@/lib/builds/kbuild/apply";
import { generateModuleSource, type HeaderIndex, type ModuleInput, type PatchedFile } from "@/lib/builds/kbuild/module-source";
import { analysePatch, parsePatch } from "@/lib/patches/analysis";
import { cParser } from "@/lib/patches/c-parser";
import { CMDLINE_C } from "./sources";

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, "../../patches/fixtures", name), "utf8");

const EXPORTED = new Set(["seq_puts", "seq_putc", "seq_printf", "seq_write", "strstr", "printk", "kfree"]);
const HEADERS: HeaderIndex = {
  macros: new Set(["pr_info", "container_of", "list_for_each_entry", "current"]),
  inlines: new Set(["spin_lock", "spin_unlock", "kmalloc"]),
  enumerators: new Set(["TASK_COMM_LEN"]),
  declared: new Set(["saved_command_line", "seq_puts", "seq_putc", "strstr", "proc_create_single_data", "sched_clock_stable"]),
};

let parser: Parser;
beforeAll(async () => {
  parser = await cParser();
});

function input(files: PatchedFile[], exported: Set<string> = EXPORTED): ModuleInput {
  return {
    moduleName: "livepatch_6f1a2b3c4d5e",
    patchId: "6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b",
    kernelRelease: "6.1.0-50-amd64",
    files,
    symbols: { isExported: (n) => exported.has(n), headers: HEADERS },
  };
}

/** The patched file and its changed functions, as the builder gets them from the diff and the analysis. */
async function patched(diffName: string, pre: string, object: string | null = null): Promise<PatchedFile> {
  const diff = fixture(diffName);
  const file = parsePatch(diff).files[0]!;
  const analysis = await analysePatch(diff);
  const functions = analysis.files.find((f) => f.path === file.path)!.functions.map((f) => ({ name: f.name, change: f.change }));
  return { path: file.path, text: applyFileDiff(pre, file), functions, object };
}

function ok(result: ReturnType<typeof generateModuleSource>) {
  if (!result.ok) throw new Error(`refused: ${result.problems.map((p) => p.message).join("; ")}`);
  return result.module;
}

function refused(result: ReturnType<typeof generateModuleSource>) {
  if (result.ok) throw new Error(`expected a refusal, got a module:\n${result.module.source}`);
  return result.problems;
}

describe("livepatch module source", () => {
  it("cmdline-marker.diff: the file's includes, the new function renamed and static, the klp tables, init and metadata", async () => {
    const file = await patched("cmdline-marker.diff", CMDLINE_C);
    const module = ok(generateModuleSource(parser, input([file])));
    expect(module.replaced).toEqual([{ file: "fs/proc/cmdline.c", object: null, oldName: "cmdline_proc_show", newName: "livepatch_cmdline_proc_show" }]);
    expect(module.unknown).toEqual([]);
    const src = module.source;
    expect(src).toContain("#include <linux/fs.h>\n#include <linux/init.h>\n#include <linux/proc_fs.h>\n#include <linux/seq_file.h>\n");
    expect(src).toContain('static int livepatch_cmdline_proc_show(struct seq_file *m, void *v)\n{\n');
    expect(src).toContain('\tseq_puts(m, "splicer-patched\\n");\n\treturn 0;\n}');
    // Nothing else of the file: not the old body, not the __init function, not its initcall.
    expect(src).not.toContain("saved_command_line");
    expect(src).not.toContain("proc_cmdline_init");
    const code = src.split("\n").filter((l) => !l.startsWith("/*")).join("\n");
    expect(code).not.toMatch(/\bcmdline_proc_show\(/);
    expect(src).toContain('.old_name = "cmdline_proc_show",\n\t\t.new_func = livepatch_cmdline_proc_show,');
    expect(src).toMatch(/static struct klp_object splicer_objs\[\] = \{\n\t\{\n\t\t\/\* vmlinux \*\/\n\t\t\.name = NULL,/);
    expect(src).toContain("static struct klp_patch splicer_patch = {\n\t.mod = THIS_MODULE,\n\t.objs = splicer_objs,\n};");
    expect(src).toContain("return klp_enable_patch(&splicer_patch);");
    expect(src).toContain("module_init(splicer_livepatch_init);");
    expect(src).toContain('MODULE_LICENSE("GPL");');
    expect(src).toContain('MODULE_INFO(livepatch, "Y");');
    expect(src).toContain("#include <linux/livepatch.h>");
    // The includes of the file come before its function; the function before the tables.
    expect(src.indexOf("#include <linux/seq_file.h>")).toBeLessThan(src.indexOf("livepatch_cmdline_proc_show("));
    expect(src.indexOf("livepatch_cmdline_proc_show(")).toBeLessThan(src.indexOf("struct klp_func"));
  });

  it("function-only-cmdline.diff is refused: saved_command_line is not exported to modules", async () => {
    const file = await patched("function-only-cmdline.diff", CMDLINE_C);
    const problems = refused(generateModuleSource(parser, input([file])));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: "fs/proc/cmdline.c", function: "cmdline_proc_show", symbol: "saved_command_line" });
    expect(problems[0]!.message).toBe(
      "cmdline_proc_show() uses saved_command_line, which the kernel does not export to modules (declared in the headers, not in Module.symvers)",
    );
  });

  it("new-function-added.diff: the added helper comes along under its own name, static, and is not in the klp_func table", async () => {
    const file = await patched("new-function-added.diff", CMDLINE_C);
    // As if saved_command_line were exported: the point here is the added function.
    const module = ok(generateModuleSource(parser, input([file], new Set([...EXPORTED, "saved_command_line"]))));
    expect(module.replaced.map((r) => r.oldName)).toEqual(["cmdline_proc_show"]);
    expect(module.source).toContain("static void cmdline_show_redacted(struct seq_file *m, const char *cmdline)\n{");
    expect(module.source).toContain("\tcmdline_show_redacted(m, saved_command_line);");
    expect(module.source.indexOf("cmdline_show_redacted(struct")).toBeLessThan(module.source.indexOf("livepatch_cmdline_proc_show("));
    expect(module.source).not.toContain('.old_name = "cmdline_show_redacted"');
    // And without that export it is refused, naming the symbol.
    const problems = refused(generateModuleSource(parser, input([file])));
    expect(problems.map((p) => p.symbol)).toEqual(["saved_command_line"]);
  });

  const SAMPLE = `// SPDX-License-Identifier: GPL-2.0
#include <linux/kernel.h>
#include "internal.h"

#define SAMPLE_LIMIT(x) ((x) * 2)
#define SAMPLE_NAME "sample"

enum sample_state { SAMPLE_IDLE, sample_busy };

struct sample {
	int count;
	int state;
};

static int sample_total;
int sample_shared;
static DEFINE_SPINLOCK(sample_lock);

static int sample_helper(int v)
{
	return v + 1;
}

static inline int sample_double(int v)
{
	return SAMPLE_LIMIT(v);
}

static inline int sample_bump(struct sample *s)
{
	return sample_total++;
}

int sample_exported_fn(int v)
{
	return v;
}

static int sample_one(struct sample *s, int limit)
{
	int local = limit;

	if (s->count > local)
		return -EINVAL;
	return sample_double(s->count) + sample_busy + TASK_COMM_LEN;
}

#ifdef CONFIG_SAMPLE_EXTRA
static int sample_two(struct sample *s)
{
	pr_info("%s\\n", SAMPLE_NAME);
	return sample_one(s, 3);
}
#endif

static int sample_three(struct sample *s)
{
	spin_lock(&sample_lock);
	sample_total = sample_helper(s->count);
	spin_unlock(&sample_lock);
	return sample_shared + sample_exported_fn(1);
}

static int sample_four(struct sample *s)
{
	return sample_bump(s) + mystery_macro_fn(s->count);
}

int __init sample_init(void)
{
	return 0;
}
`;

  const file = (functions: PatchedFile["functions"], object: string | null = null, text = SAMPLE): PatchedFile => ({ path: "drivers/misc/sample.c", text, functions, object });

  it("keeps what the new code needs from the file: macros, types, used static inline helpers, conditionals; renames calls between replaced functions", () => {
    const module = ok(
      generateModuleSource(
        parser,
        input([
          file([
            { name: "sample_one", change: "modified" },
            { name: "sample_two", change: "modified" },
          ]),
        ]),
      ),
    );
    const src = module.source;
    expect(src).toContain('#include <linux/kernel.h>\n#include "internal.h"');
    expect(src).toContain("#define SAMPLE_LIMIT(x) ((x) * 2)");
    expect(src).toContain("enum sample_state { SAMPLE_IDLE, sample_busy };");
    expect(src).toContain("struct sample {\n\tint count;\n\tint state;\n};");
    expect(src).toContain("static inline int sample_double(int v)");
    // Helpers the new code does not use, static data and other functions stay out.
    expect(src).not.toContain("sample_bump");
    expect(src).not.toContain("sample_helper");
    expect(src).not.toContain("sample_total");
    expect(src).not.toContain("sample_lock");
    expect(src).not.toContain("sample_init");
    // The conditional around sample_two is kept, and its call to sample_one goes to the new one.
    expect(src).toMatch(/#ifdef CONFIG_SAMPLE_EXTRA\n\/\* the new sample_two\(\)[^\n]*\*\/\nstatic int livepatch_sample_two\(struct sample \*s\)\n\{\n\tpr_info\("%s\\n", SAMPLE_NAME\);\n\treturn livepatch_sample_one\(s, 3\);\n\}\n#endif/);
    expect(module.replaced.map((r) => [r.oldName, r.newName])).toEqual([
      ["sample_one", "livepatch_sample_one"],
      ["sample_two", "livepatch_sample_two"],
    ]);
  });

  it("refuses static functions and variables of the file, and its unexported definitions, naming each", () => {
    const problems = refused(generateModuleSource(parser, input([file([{ name: "sample_three", change: "modified" }])])));
    expect(problems.map((p) => p.symbol).sort()).toEqual(["sample_exported_fn", "sample_helper", "sample_lock", "sample_shared", "sample_total"]);
    const by = (s: string) => problems.find((p) => p.symbol === s)!.message;
    expect(by("sample_helper")).toBe(
      "sample_three() calls sample_helper(), a static function of drivers/misc/sample.c that a module cannot call (it is not exported and not part of the patch)",
    );
    expect(by("sample_total")).toMatch(/^sample_three\(\) uses sample_total, a static variable of drivers\/misc\/sample.c/);
    expect(by("sample_lock")).toMatch(/^sample_three\(\) uses sample_lock, a static variable/);
    expect(by("sample_shared")).toMatch(/does not export to modules/);
    expect(by("sample_exported_fn")).toMatch(/^sample_three\(\) calls sample_exported_fn\(\), which drivers\/misc\/sample.c defines but does not export/);
    // Exported, it is fine.
    const again = refused(generateModuleSource(parser, input([file([{ name: "sample_three", change: "modified" }])], new Set([...EXPORTED, "sample_exported_fn", "sample_shared"]))));
    expect(again.map((p) => p.symbol).sort()).toEqual(["sample_helper", "sample_lock", "sample_total"]);
  });

  it("looks into the static inline helpers it copies, and leaves unknown names to the compiler", () => {
    const result = generateModuleSource(parser, input([file([{ name: "sample_four", change: "modified" }])]));
    const problems = refused(result);
    expect(problems).toEqual([
      expect.objectContaining({ function: "sample_bump", symbol: "sample_total", message: expect.stringMatching(/^sample_bump\(\) uses sample_total, a static variable/) }),
    ]);
    const fixed = SAMPLE.replace("return sample_total++;", "return s->count++;");
    const module = ok(generateModuleSource(parser, input([file([{ name: "sample_four", change: "modified" }], null, fixed)])));
    expect(module.source).toContain("static inline int sample_bump(struct sample *s)");
    expect(module.unknown).toEqual([{ symbol: "mystery_macro_fn", function: "sample_four", file: "drivers/misc/sample.c" }]);
  });

  it("refuses __init code, inline functions, removed functions and functions it cannot find", () => {
    const problems = refused(
      generateModuleSource(
        parser,
        input([
          file([
            { name: "sample_init", change: "modified" },
            { name: "sample_double", change: "modified" },
            { name: "sample_gone", change: "removed" },
            { name: "__do_sys_sample", change: "modified" },
          ]),
        ]),
      ),
    );
    expect(problems.map((p) => p.message)).toEqual([
      "sample_init() is __init code: it runs only at boot or module load, and a live patch cannot re-run it",
      "sample_double() is inline: its callers carry their own copies, which a live patch of sample_double() would not change",
      "sample_gone() is removed by the patch: a live patch cannot remove a function from the running kernel",
      "no definition of __do_sys_sample() found in the patched drivers/misc/sample.c (functions defined through macros, e.g. SYSCALL_DEFINE, are not supported by the kbuild builder)",
    ]);
  });

  it("names the owning module in klp_object, and makes a non-static replaced function static", () => {
    const text = SAMPLE.replace("static int sample_one(", "int sample_one(").replace("#define SAMPLE_NAME", "int sample_one(struct sample *s, int limit);\n#define SAMPLE_NAME");
    const module = ok(generateModuleSource(parser, input([file([{ name: "sample_one", change: "modified" }], "sample_mod", text)])));
    expect(module.source).toContain("static int livepatch_sample_one(struct sample *s, int limit);");
    expect(module.source).toContain("static int livepatch_sample_one(struct sample *s, int limit)\n{");
    expect(module.source).toMatch(/\/\* module sample_mod \*\/\n\t\t\.name = "sample_mod",\n\t\t\.funcs = splicer_funcs_sample_mod_0,/);
    expect(module.replaced[0]!.object).toBe("sample_mod");
  });

  it("refuses a patch with nothing to replace", () => {
    const problems = refused(generateModuleSource(parser, input([file([])])));
    expect(problems.map((p) => p.message)).toEqual(["the patch changes no function that a live patch could replace"]);
  });
});
