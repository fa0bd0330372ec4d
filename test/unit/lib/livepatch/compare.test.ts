import * as fs from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffObjects, type ObjectDiff } from "@/lib/livepatch/compare";
import { readElf, type Sym } from "@/lib/livepatch/elf";
import { baseName } from "@/lib/livepatch/kernel-object";
import { compile, tempDir } from "./helpers";

const HEAD = `extern int printk(const char *fmt, ...);\n`;

interface Case {
  name: string;
  pre: string;
  post: string;
  changed?: string[];
  added?: string[];
  /** Base names (GCC's numbering of static locals varies). */
  addedData?: string[];
  refusals?: { code: string; symbol: string }[];
}

// Each case: a pre and a post translation unit, and what the diff must say. Unlisted = empty.
const CASES: Case[] = [
  {
    name: "identical sources",
    pre: `${HEAD}static int state;\nvoid set(int v) { state = v; }\nint get(void) { static int n; return printk("%d %d\\n", state, ++n); }\nint val = 3;\n`,
    post: `${HEAD}static int state;\nvoid set(int v) { state = v; }\nint get(void) { static int n; return printk("%d %d\\n", state, ++n); }\nint val = 3;\n`,
  },
  {
    name: "a string literal changed in one function",
    pre: `${HEAD}int greet(void) { return printk("hello %d\\n", 1); }\nint other(void) { return printk("other %d\\n", 2); }\n`,
    post: `${HEAD}int greet(void) { return printk("hello, world %d\\n", 1); }\nint other(void) { return printk("other %d\\n", 2); }\n`,
    changed: ["greet"],
  },
  {
    name: "a string literal changed to one of the same length",
    pre: `${HEAD}int greet(void) { return printk("hello %d\\n", 1); }\nint other(void) { return printk("other %d\\n", 2); }\n`,
    post: `${HEAD}int greet(void) { return printk("HELLO %d\\n", 1); }\nint other(void) { return printk("other %d\\n", 2); }\n`,
    changed: ["greet"],
  },
  {
    name: "a string literal changed after its eighth character",
    pre: `${HEAD}int greet(int x) { return printk("the value is %d\\n", x); }\nint other(void) { return printk("the value is %d\\n", 2); }\n`,
    post: `${HEAD}int greet(int x) { return printk("the value is now %d\\n", x); }\nint other(void) { return printk("the value is %d\\n", 2); }\n`,
    changed: ["greet"],
  },
  {
    name: "the second of two string literals of a function changed",
    pre: `${HEAD}int greet(int x) { return printk("first %d\\n", x) + printk("second message %d\\n", x); }\nint other(void) { return printk("first %d\\n", 2); }\n`,
    post: `${HEAD}int greet(int x) { return printk("first %d\\n", x) + printk("second message! %d\\n", x); }\nint other(void) { return printk("first %d\\n", 2); }\n`,
    changed: ["greet"],
  },
  {
    name: "a static helper inlined into its caller",
    pre: `${HEAD}static int helper(int x) { return x * 3 + 1; }\nint caller(int x) { return helper(x) + 2; }\nint bystander(int x) { return x - 1; }\n`,
    post: `${HEAD}static int helper(int x) { return x * 5 + 1; }\nint caller(int x) { return helper(x) + 2; }\nint bystander(int x) { return x - 1; }\n`,
    changed: ["caller"],
  },
  {
    name: "a new function",
    pre: `${HEAD}int one(int x) { return x + 1; }\n`,
    post: `${HEAD}int one(int x) { return x + 1; }\nint two(int x) { return printk("two %d\\n", x); }\n`,
    added: ["two"],
  },
  {
    name: "a changed initialised global",
    pre: `${HEAD}int limit = 5;\nint use(void) { return printk("%d\\n", limit); }\n`,
    post: `${HEAD}int limit = 6;\nint use(void) { return printk("%d\\n", limit); }\n`,
    refusals: [{ code: "data_changed", symbol: "limit" }],
  },
  {
    // pr_debug's descriptor records the line: moving the call changes its initial value only.
    name: "a dynamic debug descriptor whose line moves (the function changes, no refusal)",
    pre: `${HEAD}struct dd { const char *fmt; unsigned int line; };\nint use(int x) { static struct dd __attribute__((section("__dyndbg"), used)) d = { "x %d", 10 }; return printk(d.fmt, x); }\n`,
    post: `${HEAD}struct dd { const char *fmt; unsigned int line; };\nint use(int x) { static struct dd __attribute__((section("__dyndbg"), used)) d = { "x %d", 11 }; return printk(d.fmt, x + 1); }\n`,
    changed: ["use"],
  },
  {
    name: "a changed static constant table",
    pre: `${HEAD}static const int table[4] = { 1, 2, 3, 4 };\nint pick(int i) { return table[i & 3]; }\n`,
    post: `${HEAD}static const int table[4] = { 1, 2, 3, 5 };\nint pick(int i) { return table[i & 3]; }\n`,
    refusals: [{ code: "data_changed", symbol: "table" }],
  },
  {
    name: "a variable that changes size",
    pre: `${HEAD}int slots[4];\nint use(int i) { return slots[i & 3]; }\n`,
    post: `${HEAD}int slots[8];\nint use(int i) { return slots[i & 3]; }\n`,
    refusals: [{ code: "data_layout", symbol: "slots" }],
  },
  {
    name: "a changed __init function",
    pre: `${HEAD}__attribute__((section(".init.text"))) int setup_thing(int x) { return printk("setup %d\\n", x); }\nint run(int x) { return x; }\n`,
    post: `${HEAD}__attribute__((section(".init.text"))) int setup_thing(int x) { return printk("setup %d\\n", x + 1); }\nint run(int x) { return x; }\n`,
    refusals: [{ code: "init_changed", symbol: "setup_thing" }],
  },
  {
    name: "lines added above the functions, code the same",
    pre: `${HEAD}static int state;\nvoid set(int v) { state = v; }\nint get(void) { return printk("%d\\n", state); }\n`,
    post: `${HEAD}\n\n/* A comment\n * that moves every line down. */\n#define UNUSED 1\n\nstatic int state;\n\nvoid set(int v)\n{\n\tstate = v;\n}\n\nint get(void)\n{\n\treturn printk("%d\\n", state);\n}\n`,
  },
];

// .cold parts: GCC moves the unlikely branch out of line as `check.cold` (in .text.unlikely.check).
const COLD = (msg: string, factor: number) => `${HEAD}extern void report(int) __attribute__((cold));
int check(int x) { int s = 0; for (int i = 0; i < x; i++) { if (__builtin_expect(i == 1000, 0)) { report(i); printk("${msg} %d\\n", x); report(x); } s += i * ${factor}; } return s; }
int plain(int x) { return x + 7; }
`;
CASES.push(
  { name: "a change only in the .cold part", pre: COLD("too big", 3), post: COLD("far too big", 3), changed: ["check"] },
  { name: "a change only in the hot part of a function with a .cold part", pre: COLD("too big", 3), post: COLD("too big", 5), changed: ["check"] },
);

// Static locals: GCC numbers them (`counter.N`) counting from the last function of the file, so a
// static local added after a function renumbers that function's.
const STATICS_PRE = `${HEAD}int f(void) { static int counter; counter++; return printk("f=%d\\n", counter); }
int g(void) { static int counter; counter += 2; return printk("g=%d\\n", counter); }
`;
const STATICS_RENUMBERED = `${HEAD}int f(void) { static int counter; counter++; return printk("f=%d\\n", counter); }
int g(void) { static int counter; counter += 2; return printk("g is %d\\n", counter); }
int k(void) { static int counter; counter += 3; return printk("k=%d\\n", counter); }
`;
const STATICS_ONE_MORE = `${HEAD}int f(void) { static int counter; counter++; return printk("f=%d\\n", counter); }
int g(void) { static int calls; static int counter; calls++; counter += 2; return printk("g=%d %d\\n", counter, calls); }
`;
CASES.push(
  { name: "a changed function's static local renumbered by a new one after it", pre: STATICS_PRE, post: STATICS_RENUMBERED, changed: ["g"], added: ["k"], addedData: ["counter"] },
  { name: "a changed function that adds a static local before its own", pre: STATICS_PRE, post: STATICS_ONE_MORE, changed: ["g"], addedData: ["calls"] },
);

// A table of file-scope compound literals (pinctrl-amd's kerncz_groups, pin lists in a header),
// renumbered by a literal the patch adds before it: the table is the same, its literals pair
// through it, not by their numbers.
const LITERALS = (extra: string, wake: string) => `${HEAD}struct group { const char *name; const unsigned *pins; unsigned n; };
${extra}int wake(int x) { ${wake} }
static const struct group groups[] = {
\t{ "g0", (const unsigned[]){ 1, 2 }, 2 },
\t{ "g1", (const unsigned[]){ 3 }, 1 },
};
const struct group *group_of(int i) { return &groups[i]; }
`;
CASES.push({
  name: "a table of compound literals renumbered by a new literal before it",
  pre: LITERALS("", `return printk("wake %d\\n", x);`),
  post: LITERALS("static const unsigned *const extra = (const unsigned[]){ 4, 5, 6 };\n", `return printk("wake %d %u\\n", x, extra[x]);`),
  changed: ["wake"],
  addedData: ["__compound_literal"],
});

// `__func__` of an inlined helper and of the function itself: two numbered constants referenced
// from one function, whose order the patch swaps (ext4_mb_load_buddy_gfp in Debian 6.1.192-2).
// Constants pair by content, not by the order the function happens to reference them.
const FUNC_NAMES = (body: string) => `${HEAD}static inline __attribute__((always_inline)) int helper_with_a_long_name(int x) { return printk("%s %d\\n", __func__, x); }
int f(int x) { ${body} }
`;
CASES.push(
  {
    name: "a function whose inlined helper's __func__ and its own swap order",
    pre: FUNC_NAMES(`printk("%s\\n", __func__); return helper_with_a_long_name(x);`),
    post: FUNC_NAMES(`int r = helper_with_a_long_name(x); printk("%s\\n", __func__); return r;`),
    changed: ["f"],
  },
  {
    name: "a read-only static local whose content changes is the patch's own copy",
    pre: `${HEAD}int f(int x) { static const char tag[] = "old"; return printk(tag, x); }\n`,
    post: `${HEAD}int f(int x) { static const char tag[] = "newer"; return printk(tag, x); }\n`,
    changed: ["f"],
    addedData: ["tag"],
  },
);

let dir: string;
const diffs = new Map<string, ObjectDiff>();
beforeAll(async () => {
  dir = await tempDir("compare");
  for (const [i, c] of CASES.entries()) {
    const [pre, post] = await Promise.all([compile(dir, `c${i}-pre`, c.pre), compile(dir, `c${i}-post`, c.post)]);
    diffs.set(c.name, diffObjects(readElf(pre.bytes), readElf(post.bytes)));
  }
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const names = (list: Sym[]) => list.map((s) => s.name).sort();

describe("diffObjects", () => {
  it("the table's literals really are renumbered (else the case proves nothing)", () => {
    const d = diffs.get("a table of compound literals renumbered by a new literal before it") as ObjectDiff;
    const pins = (idx: ObjectDiff["pre"]) => {
      const groups = idx.byName.get("groups") as Sym;
      const rela = idx.obj.sections.find((s) => s.target === groups.section);
      return (rela?.relas ?? []).map((r) => r.sym.section?.name).filter((n) => n?.includes("compound"));
    };
    expect(pins(d.pre)).toEqual([".rodata.__compound_literal.0", ".rodata.__compound_literal.1"]);
    expect(pins(d.post)).toEqual([".rodata.__compound_literal.1", ".rodata.__compound_literal.2"]);
  });

  it.each(CASES)("$name", (c) => {
    const d = diffs.get(c.name) as ObjectDiff;
    expect(names(d.changed), "changed").toEqual([...(c.changed ?? [])].sort());
    expect(names(d.added), "added").toEqual([...(c.added ?? [])].sort());
    expect(d.addedData.map((s) => baseName(s.name)).sort(), "addedData").toEqual([...(c.addedData ?? [])].sort());
    expect(d.refusals.map((r) => ({ code: r.code, symbol: r.symbol }))).toEqual(c.refusals ?? []);
    for (const r of d.refusals) expect(r.message).toContain(r.symbol);
  });

  it("the inlined helper really is inlined (else the case proves nothing)", () => {
    const d = diffs.get("a static helper inlined into its caller") as ObjectDiff;
    expect(d.pre.byName.has("helper")).toBe(false);
    expect(d.post.byName.has("helper")).toBe(false);
  });

  it("a .cold part is compiled as one and goes with its parent", () => {
    for (const name of ["a change only in the .cold part", "a change only in the hot part of a function with a .cold part"]) {
      const d = diffs.get(name) as ObjectDiff;
      expect(d.post.byName.get("check.cold")?.section?.name).toBe(".text.unlikely.check");
      expect(d.correlation.get(d.post.byName.get("check.cold") as Sym)?.name).toBe("check.cold");
    }
  });

  it("pairs a renumbered static local with the pre object's instance of the same function", () => {
    const d = diffs.get("a changed function's static local renumbered by a new one after it") as ObjectDiff;
    const local = (idx: ObjectDiff["pre"], fn: string) => {
      // The static local a function uses: the .bss.counter.N its relocations point at.
      const text = idx.obj.sections.find((s) => s.name === `.text.${fn}`);
      const rela = idx.obj.sections.find((s) => s.target === text);
      const sym = rela?.relas?.find((r) => r.sym.section?.name.startsWith(".bss.counter"))?.sym.section;
      return idx.obj.symbols.find((s) => s.type === 1 && s.section === sym) as Sym;
    };
    // GCC did renumber (else this case proves nothing): g's counter has another name after the patch.
    expect(local(d.post, "g").name).not.toBe(local(d.pre, "g").name);
    expect(local(d.post, "f").name).not.toBe(local(d.pre, "f").name);
    expect(d.correlation.get(local(d.post, "g"))).toBe(local(d.pre, "g"));
    expect(d.correlation.get(local(d.post, "f"))).toBe(local(d.pre, "f"));
    expect(d.correlation.has(local(d.post, "k"))).toBe(false);

    const added = diffs.get("a changed function that adds a static local before its own") as ObjectDiff;
    expect(added.correlation.get(local(added.post, "g"))).toBe(local(added.pre, "g"));
    expect(added.correlation.get(local(added.post, "f"))).toBe(local(added.pre, "f"));
  });
});
