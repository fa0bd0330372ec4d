import * as fs from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffObjects } from "@/lib/livepatch/compare";
import { EM_X86_64, ET, SHF, SHT, STB, STT, readElf, writeElf, type ElfObject, type Rela, type Section, type Sym } from "@/lib/livepatch/elf";
import { buildPatchObject, type PatchObjectResult } from "@/lib/livepatch/patch-object";
import { buildShowPatch, compile, localName, parseRelocations, parseSymbols, recordingResolver, tempDir, tool, writeTemp } from "./helpers";

let dir: string;
let show: Awaited<ReturnType<typeof buildShowPatch>>;
let patchPath: string;
beforeAll(async () => {
  dir = await tempDir("patch");
  show = await buildShowPatch(dir);
  if (show.result.ok) patchPath = await writeTemp(dir, "patch.o", writeElf(show.result.object));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const ok = (r: PatchObjectResult) => {
  if (!r.ok) throw new Error(`refused: ${r.refusals.map((x) => x.message).join("; ")}`);
  return r;
};

describe("buildPatchObject on a compiled change", () => {
  it("replaces the changed function and carries the new one", () => {
    expect(show.diff.changed.map((s) => s.name)).toEqual(["show"]);
    const r = ok(show.result);
    expect(r.replaced).toEqual([{ name: "show", sympos: 1, entry: "__splicer_new_0" }]);
    expect(r.added).toEqual(["fresh"]);
  });

  it("asks the resolver for what it does not carry, a renumbered static local by its pre name", () => {
    // GCC renumbered show's static local (else this proves nothing).
    expect(show.names.counterPost).not.toBe(show.names.counterPre);
    const asked = new Map(show.asked.map((a) => [a.name, a]));
    expect([...asked.keys()].sort()).toEqual(["exported_fn", "helper", "printk", "set_state", "show", "state", show.names.counterPre, show.names.warnedPre].sort());
    expect(asked.get("helper")).toMatchObject({ inUnit: true, local: true, type: STT.FUNC });
    expect(asked.get("state")).toMatchObject({ inUnit: true, local: true, type: STT.OBJECT });
    expect(asked.get(show.names.counterPre)).toMatchObject({ inUnit: true, local: true, type: STT.OBJECT });
    expect(asked.get("set_state")).toMatchObject({ inUnit: true, local: false });
    expect(asked.get("printk")).toMatchObject({ inUnit: false, local: false });
    expect(ok(show.result).klpSymbols.sort()).toEqual(
      [
        ".klp.sym.vmlinux.helper,2",
        ".klp.sym.vmlinux.set_state,0",
        ".klp.sym.vmlinux.state,0",
        `.klp.sym.vmlinux.${show.names.counterPre},3`,
        `.klp.sym.vmlinux.${show.names.warnedPre},0`,
      ].sort(),
    );
  });

  it("writes an object whose symbols readelf shows as the module needs them", async () => {
    const out = await tool("readelf", ["-sW", patchPath]);
    expect(out.stderr).toBe("");
    const syms = parseSymbols(out.stdout);
    const by = (name: string) => syms.filter((s) => s.name === name);
    // Exports stay plain undefined symbols; everything else reached outside is a .klp.sym.
    const undef = syms.filter((s) => s.ndx === "UND" && s.name !== "").map((s) => s.name);
    expect(undef.sort()).toEqual(["exported_fn", "printk", ...ok(show.result).klpSymbols].sort());
    for (const s of syms.filter((x) => x.ndx === "UND" && x.name !== "")) expect(s.bind).toBe("GLOBAL");
    // The entry symbol is a global alias of the new show.
    const entry = by("__splicer_new_0");
    const copy = by("show");
    expect(entry).toHaveLength(1);
    expect(copy).toHaveLength(1);
    expect(entry[0]).toMatchObject({ type: "FUNC", bind: "GLOBAL", ndx: copy[0]?.ndx, value: copy[0]?.value, size: copy[0]?.size });
    expect(copy[0]?.bind).toBe("LOCAL");
    // New code and data are defined in the object, the new function's static local too.
    expect(by("fresh")[0]).toMatchObject({ type: "FUNC", bind: "LOCAL" });
    expect(by("new_total")[0]).toMatchObject({ type: "OBJECT", size: 4 });
    expect(by("new_total")[0]?.ndx).toMatch(/^\d+$/);
    const freshCounter = localName(show.diff, "post", "counter", "fresh");
    expect(by(freshCounter)[0]?.ndx).toMatch(/^\d+$/);
    // Nothing of the running kernel is copied: no helper, state or show's static locals.
    // (fresh's static local may have the name show's had before the patch: that one is fresh's.)
    for (const name of ["helper", "state", "set_state", "other_once", show.names.counterPost, show.names.counterPre, show.names.warnedPost].filter((n) => n !== freshCounter)) {
      expect(by(name).filter((s) => s.ndx !== "UND"), name).toEqual([]);
    }
  });

  it("keeps show's code byte for byte and points each relocation where the compiler's did", async () => {
    const hex = async (file: string) => (await tool("readelf", ["-x", ".text.show", file])).stdout.replace(/^.*Hex dump.*$/m, "");
    expect(await hex(patchPath)).toBe(await hex(show.post.path));

    const pre = show.names;
    const want = (t: string) =>
      t
        .replace(new RegExp(`^\\.bss\\.${pre.counterPost.replace(".", "\\.")} `), `.klp.sym.vmlinux.${pre.counterPre},3 `)
        .replace(/^\.bss\.state /, ".klp.sym.vmlinux.state,0 ")
        .replace(/^\.text\.helper /, ".klp.sym.vmlinux.helper,2 ")
        .replace(/^set_state /, ".klp.sym.vmlinux.set_state,0 ");
    const post = parseRelocations((await tool("readelf", ["-rW", show.post.path])).stdout).get(".rela.text.show") ?? [];
    const got = parseRelocations((await tool("readelf", ["-rW", patchPath])).stdout).get(".rela.text.show") ?? [];
    expect(got.length).toBe(post.length);
    // `.data.once` holds two flags: the ones of show must be its own `warned`, at the right offsets.
    const warned = show.diff.post.byName.get(pre.warnedPost) as Sym;
    const expected = post.map((r) => {
      const once = /^\.data\.once ([-+]) (\d+)$/.exec(r.target);
      if (!once) return { type: r.type, target: want(r.target) };
      const addend = (once[1] === "-" ? -1n : 1n) * BigInt(once[2] as string) - warned.value;
      return { type: r.type, target: `.klp.sym.vmlinux.${pre.warnedPre},0 ${addend < 0n ? "-" : "+"} ${addend < 0n ? -addend : addend}` };
    });
    expect(got).toEqual(expected);
    expect(got.some((r) => r.target.startsWith(".rodata.show.str1.1"))).toBe(true);
  });

  it("carries the new string and the new data's initial value", async () => {
    const strings = (await tool("readelf", ["-p", ".rodata.show.str1.1", patchPath])).stdout;
    expect(strings).toContain("new %d %d");
    expect(strings).not.toContain("old");
    const syms = parseSymbols((await tool("readelf", ["-sW", patchPath])).stdout);
    const ndx = syms.find((s) => s.name === "new_total")?.ndx;
    const dump = (await tool("readelf", ["-x", ndx as string, patchPath])).stdout;
    expect(dump).toMatch(/0x00000000 07000000/);
  });

  it("links with ld -r", async () => {
    const out = path.join(dir, "linked.o");
    const ld = await tool("ld", ["-r", "-o", out, patchPath]);
    expect(ld.stderr).toBe("");
  });

  it("refuses, naming the symbol, when the resolver cannot place one", async () => {
    const d = await tempDir("patch-unresolved");
    try {
      const r = await buildShowPatch(d, (diff) => ({ show: 1, state: 0, set_state: 0, [localName(diff, "pre", "counter", "show")]: 3, [localName(diff, "pre", "warned", "show")]: 0 }));
      expect(r.result.ok).toBe(false);
      if (r.result.ok) return;
      expect(r.result.refusals).toHaveLength(1);
      expect(r.result.refusals[0]).toMatchObject({ code: "unsupported", symbol: "helper" });
      expect(r.result.refusals[0]?.message).toContain("helper");
    } finally {
      await fs.rm(d, { recursive: true, force: true });
    }
  });

  it("refuses when the replaced function itself cannot be found", async () => {
    const d = await tempDir("patch-unresolved");
    try {
      const r = await buildShowPatch(d, (diff) => ({ helper: 2, state: 0, set_state: 0, [localName(diff, "pre", "counter", "show")]: 3, [localName(diff, "pre", "warned", "show")]: 0 }));
      expect(r.result.ok).toBe(false);
      if (!r.result.ok) expect(r.result.refusals.map((x) => x.symbol)).toEqual(["show"]);
    } finally {
      await fs.rm(d, { recursive: true, force: true });
    }
  });
});

describe("references into a section shared by several variables", () => {
  // other_once's `done` sits after show's `warned` in .data.once; `done = 1` is `movl $1, x(%rip)`,
  // whose addend is biased by 8, not 4: taken as 4 it names `warned`.
  it("bind to the variable the instruction really uses", async () => {
    const src = (msg: string) => `extern int printk(const char *fmt, ...);
int show(int x) { static int __attribute__((section(".data.once"))) warned; if (!warned) { warned = 1; return printk("show %d\\n", x); } return 0; }
int other_once(void) { static int __attribute__((section(".data.once"))) done; if (!done) { done = 1; return printk("${msg}\\n"); } return 0; }
`;
    const d = await tempDir("patch-once");
    try {
      const pre = await compile(d, "pre", src("once"));
      const post = await compile(d, "post", src("just once"));
      const diff = diffObjects(readElf(pre.bytes), readElf(post.bytes));
      expect(diff.changed.map((s) => s.name)).toEqual(["other_once"]);
      const done = localName(diff, "pre", "done", "other_once");
      const warned = localName(diff, "pre", "warned", "show");
      const resolver = recordingResolver({ exports: ["printk"], sympos: { other_once: 0, [done]: 0, [warned]: 0 } });
      const r = ok(buildPatchObject({ diff, object: "vmlinux", resolve: resolver.resolve }));
      expect(r.klpSymbols).toEqual([`.klp.sym.vmlinux.${done},0`]);
      expect(resolver.asked.map((a) => a.name)).not.toContain(warned);
      // Each relocation of other_once now lands on `done` itself once its bias is applied.
      const file = await writeTemp(d, "patch.o", writeElf(r.object));
      const relas = parseRelocations((await tool("readelf", ["-rW", file])).stdout).get(".rela.text.other_once") ?? [];
      const onDone = relas.filter((x) => x.target.startsWith(".klp.sym"));
      const dis = (await tool("objdump", ["-drw", file])).stdout;
      expect(onDone.length).toBe(2); // the load and the store
      expect(dis).toMatch(/movl\s+\$0x1,0x0\(%rip\)[^\n]*R_X86_64_PC32\s+\.klp\.sym\.vmlinux\.done\.\d+,0-0x8/);
      expect(dis).toMatch(/mov\s+0x0\(%rip\),%eax[^\n]*R_X86_64_PC32\s+\.klp\.sym\.vmlinux\.done\.\d+,0-0x4/);
    } finally {
      await fs.rm(d, { recursive: true, force: true });
    }
  });
});

// Special sections: a hand-made object with two functions, each with a __mcount_loc entry and an
// __ex_table entry (in the opposite order), of which only `b` changes.
function specialObject(bByte: number): ElfObject {
  const text = (name: string, byte: number): Section => ({ name: `.text.${name}`, type: SHT.PROGBITS, flags: SHF.ALLOC | SHF.EXECINSTR, addr: 0n, addralign: 16, entsize: 0, data: Buffer.from([0x90, 0x90, 0x90, byte, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xc3]), size: 12, index: 0 });
  const ta = text("a", 0x90);
  const tb = text("b", bByte);
  const secSym = (s: Section): Sym => ({ name: "", value: 0n, size: 0n, type: STT.SECTION, bind: STB.LOCAL, other: 0, section: s, shndx: 0, index: 0 });
  const sa = secSym(ta);
  const sb = secSym(tb);
  const fn = (name: string, s: Section): Sym => ({ name, value: 0n, size: 12n, type: STT.FUNC, bind: STB.GLOBAL, other: 0, section: s, shndx: 0, index: 0 });
  const mcount: Section = { name: "__mcount_loc", type: SHT.PROGBITS, flags: SHF.ALLOC, addr: 0n, addralign: 8, entsize: 0, data: Buffer.alloc(16), size: 16, index: 0 };
  const exData = Buffer.alloc(24);
  exData.writeUInt32LE(0xbbbb, 8); // b's entry first: its handler word
  exData.writeUInt32LE(0xaaaa, 20);
  const ex: Section = { name: "__ex_table", type: SHT.PROGBITS, flags: SHF.ALLOC, addr: 0n, addralign: 4, entsize: 0, data: exData, size: 24, index: 0 };
  const rela = (target: Section, relas: Rela[]): Section => ({ name: `.rela${target.name}`, type: SHT.RELA, flags: SHF.INFO_LINK, addr: 0n, addralign: 8, entsize: 24, data: Buffer.alloc(0), size: 0, index: 0, target, relas });
  const R_64 = 1;
  const R_PC32 = 2;
  return {
    type: ET.REL,
    machine: EM_X86_64,
    flags: 0,
    osabi: 0,
    sections: [
      ta,
      tb,
      mcount,
      rela(mcount, [
        { offset: 0n, type: R_64, sym: sa, addend: 0n },
        { offset: 8n, type: R_64, sym: sb, addend: 0n },
      ]),
      ex,
      rela(ex, [
        { offset: 0n, type: R_PC32, sym: sb, addend: 3n },
        { offset: 4n, type: R_PC32, sym: sb, addend: 10n },
        { offset: 12n, type: R_PC32, sym: sa, addend: 3n },
        { offset: 16n, type: R_PC32, sym: sa, addend: 10n },
      ]),
    ],
    symbols: [sa, sb, fn("a", ta), fn("b", tb)],
  };
}

describe("special sections", () => {
  it("carry only the entries of the carried function", async () => {
    const d = await tempDir("patch-special");
    try {
      // Through the writer and reader, as objects from disk are.
      const pre = readElf(writeElf(specialObject(0x90)));
      const post = readElf(writeElf(specialObject(0xcc)));
      const diff = diffObjects(pre, post);
      expect(diff.changed.map((s) => s.name)).toEqual(["b"]);
      const resolver = recordingResolver({ exports: [], sympos: { b: 0 } });
      const r = ok(buildPatchObject({ diff, object: "vmlinux", resolve: resolver.resolve }));
      const file = await writeTemp(d, "special.o", writeElf(r.object));

      const relas = parseRelocations((await tool("readelf", ["-rW", file])).stdout);
      expect(relas.get(".rela__mcount_loc")).toEqual([{ type: "R_X86_64_64", target: "b + 0" }]);
      expect(relas.get(".rela__ex_table")).toEqual([
        { type: "R_X86_64_PC32", target: "b + 3" },
        { type: "R_X86_64_PC32", target: "b + a" },
      ]);
      const syms = parseSymbols((await tool("readelf", ["-sW", file])).stdout);
      expect(syms.find((s) => s.name === "b")?.ndx).toMatch(/^\d+$/); // the carried copy, not an outside reference
      expect(syms.some((s) => s.name === "a")).toBe(false);
      const ex = readElf(await fs.readFile(file)).sections.find((s) => s.name === "__ex_table") as Section;
      expect(ex.data.length).toBe(12);
      expect(ex.data.readUInt32LE(8)).toBe(0xbbbb);
      const mcount = readElf(await fs.readFile(file)).sections.find((s) => s.name === "__mcount_loc") as Section;
      expect(mcount.data.length).toBe(8);
    } finally {
      await fs.rm(d, { recursive: true, force: true });
    }
  });
});

describe("buildPatchObject and a function's name (__func__)", () => {
  it("carries the changed function's __func__ itself instead of asking the running kernel for it", async () => {
    const src = (msg: string) => `extern int printk(const char *fmt, ...);\nint report(int x) { return printk("%s: ${msg} %d\\n", __func__, x); }\n`;
    const pre = await compile(dir, "func-pre", src("old"));
    const post = await compile(dir, "func-post", src("new"));
    const diff = diffObjects(readElf(pre.bytes), readElf(post.bytes));
    expect(diff.changed.map((s) => s.name)).toEqual(["report"]);
    // Unchanged, so paired with the kernel's: without the copy it would be asked for (and a
    // module's duplicates cannot be placed).
    const func = diff.post.obj.symbols.find((s) => s.name.startsWith("__func__."));
    expect(func && diff.correlation.get(func)).toBeDefined();
    const resolver = recordingResolver({ exports: ["printk"], sympos: { report: 0 } });
    const r = ok(buildPatchObject({ diff, object: "vmlinux", resolve: resolver.resolve }));
    expect(resolver.asked.map((a) => a.name).sort()).toEqual(["printk", "report"]);
    const syms = parseSymbols((await tool("readelf", ["-sW", await writeTemp(dir, "func.o", writeElf(r.object))])).stdout);
    const copy = syms.find((s) => s.name === func!.name);
    expect(copy).toMatchObject({ type: "OBJECT", bind: "LOCAL", size: 7 });
    expect(copy?.ndx).toMatch(/^\d+$/);
  });
});

describe("buildPatchObject and an empty lock_class_key (mutex_init without lockdep)", () => {
  it("gives the new code its own empty __key instead of asking the running kernel for one", async () => {
    const src = (n: number) => `struct lock_class_key { };\nstruct mutex { int owner; };\nextern void __mutex_init(struct mutex *, const char *, struct lock_class_key *);
struct mutex m;\nint setup(int x) { static struct lock_class_key __key; __mutex_init(&m, "m", &__key); return x + ${n}; }\n`;
    const pre = await compile(dir, "key-pre", src(1));
    const post = await compile(dir, "key-post", src(2));
    const diff = diffObjects(readElf(pre.bytes), readElf(post.bytes));
    expect(diff.changed.map((s) => s.name)).toEqual(["setup"]);
    const key = diff.post.obj.symbols.find((s) => s.name.startsWith("__key."));
    expect(key?.size).toBe(0n); // empty, else the case proves nothing
    const resolver = recordingResolver({ exports: ["__mutex_init"], sympos: { setup: 0, m: 0 } });
    const r = ok(buildPatchObject({ diff, object: "vmlinux", resolve: resolver.resolve }));
    expect(resolver.asked.map((a) => a.name)).not.toContain(key!.name);
    expect(r.notes.join("\n")).toMatch(/__key\.\d+ \(an empty lock_class_key: no lockdep, no state\) is the module's own/);
    const syms = parseSymbols((await tool("readelf", ["-sW", await writeTemp(dir, "key.o", writeElf(r.object))])).stdout);
    expect(syms.find((x) => x.name === key!.name)).toMatchObject({ type: "OBJECT", bind: "LOCAL", size: 0 });
  });

  it("binds a static local with state to the running kernel's, as before", async () => {
    const src = (n: number) => `int count(int x) { static int calls; calls++; return x + calls + ${n}; }\n`;
    const diff = diffObjects(readElf((await compile(dir, "cnt-pre", src(1))).bytes), readElf((await compile(dir, "cnt-post", src(2))).bytes));
    const calls = diff.pre.obj.symbols.find((s) => s.name.startsWith("calls."))!;
    const resolver = recordingResolver({ exports: [], sympos: { count: 0, [calls.name]: 0 } });
    ok(buildPatchObject({ diff, object: "vmlinux", resolve: resolver.resolve }));
    expect(resolver.asked.map((a) => a.name)).toContain(calls.name);
  });
});

// static_cpu_has() as 6.1 writes it (arch/x86/include/asm/cpufeature.h): the function jumps to a
// stub in .altinstr_aux that tests the feature bit and jumps back, until alternatives are applied.
const cpuHasSource = (bTimes: number) => `extern unsigned char cap[];
static inline __attribute__((always_inline)) int has(void) {
  asm goto("1: jmp 6f\\n"
           ".pushsection .altinstr_aux,\\"ax\\"\\n"
           "6: testb $1, cap(%%rip)\\n jnz %l[t_yes]\\n jmp %l[t_no]\\n"
           ".popsection\\n" : : : : t_yes, t_no);
  return 0;
t_yes:
  return 1;
t_no:
  return 0;
}
int __attribute__((noinline)) a(int x) { return has() ? x + 1 : x - 1; }
int __attribute__((noinline)) b(int x) { return has() ? x * ${bTimes} : x - 2; }
`;

describe("static_cpu_has stubs (.altinstr_aux)", () => {
  it("carry the changed function's own stub, its jumps back into the new code", async () => {
    const d = await tempDir("patch-aux");
    try {
      const pre = await compile(d, "aux-pre", cpuHasSource(2));
      const post = await compile(d, "aux-post", cpuHasSource(3));
      const diff = diffObjects(readElf(pre.bytes), readElf(post.bytes));
      expect(diff.changed.map((s) => s.name)).toEqual(["b"]);
      const r = ok(buildPatchObject({ diff, object: "vmlinux", resolve: recordingResolver({ exports: ["cap"], sympos: { b: 0 } }).resolve }));
      const file = await writeTemp(d, "aux.o", writeElf(r.object));

      // One stub of the two (testb 7 bytes, jnz 6, jmp 5), the one b jumps to, byte for byte.
      const postAux = readElf(post.bytes).sections.find((s) => s.name === ".altinstr_aux") as Section;
      expect(postAux.data.length).toBe(36);
      const aux = readElf(await fs.readFile(file)).sections.find((s) => s.name === ".altinstr_aux") as Section;
      expect(aux.data.length).toBe(18);
      expect(aux.data.equals(postAux.data.subarray(18, 36))).toBe(true);

      const relas = parseRelocations((await tool("readelf", ["-rW", file])).stdout);
      const fromB = relas.get(".rela.text.b") ?? [];
      expect(fromB).toContainEqual({ type: expect.stringMatching(/R_X86_64_(PC32|PLT32)/), target: ".altinstr_aux - 4" });
      const fromAux = relas.get(".rela.altinstr_aux") ?? [];
      expect(fromAux.map((x) => x.target.split(" ")[0])).toEqual(["cap", "b", "b"]);
      // ld accepts it, and no reference is left to a's code.
      await tool("ld", ["-r", "-o", path.join(d, "aux-linked.o"), file]);
      expect(parseSymbols((await tool("readelf", ["-sW", file])).stdout).some((s) => s.name === "a")).toBe(false);
    } finally {
      await fs.rm(d, { recursive: true, force: true });
    }
  });
});

// pr_debug in a module as 6.1 compiles it: a jump label (arch_static_branch) whose key is in the
// module's own dynamic debug descriptor (section __dyndbg).
const prDebugSource = (n: number) => `extern int printk(const char *fmt, ...);
struct dd { const char *fmt; long key; };
static struct dd __attribute__((section("__dyndbg"), used, aligned(8))) desc = { "debug %d", 0 };
static struct dd __attribute__((section("__data_keys"), used, aligned(8))) other = { "other", 0 };
#define BRANCH(k) ({ int on = 0; asm goto("1: .byte 0x0f,0x1f,0x44,0x00,0x00\\n .pushsection __jump_table, \\"aw\\"\\n .balign 8\\n .long 1b - ., %l[yes] - .\\n .quad %c0 - .\\n .popsection\\n" : : "i"(&(k).key) : : yes); goto no; yes: on = 1; no: on; })
int show(int x) { if (BRANCH(desc)) printk(desc.fmt, x); return x * ${n}; }
int other_fn(int x) { if (BRANCH(other)) printk("o"); return x + ${n}; }
`;

describe("pr_debug in a module (jump labels on __dyndbg keys)", () => {
  it("drops the changed code's pr_debug entries, so its debug messages stay off, and refuses other module keys", async () => {
    const d = await tempDir("patch-dyndbg");
    try {
      const build = async (pre: string, post: string) => {
        const diff = diffObjects(readElf((await compile(d, "dd-pre", pre)).bytes), readElf((await compile(d, "dd-post", post)).bytes));
        return buildPatchObject({ diff, object: "mymod", resolve: recordingResolver({ exports: ["printk"], sympos: { show: 0, other_fn: 0, desc: 0, other: 0 }, object: "mymod" }).resolve });
      };
      const r = ok(await build(prDebugSource(2), prDebugSource(3).replace("x + 3", "x + 2")));
      expect(r.replaced.map((x) => x.name)).toEqual(["show"]);
      expect(r.notes).toEqual(["1 pr_debug site(s) of the new code stay off: their dynamic debug switches are the module's own"]);
      expect(r.object.sections.some((s) => s.name === "__jump_table")).toBe(false);

      // A key that is not a debug switch is still refused in a module.
      const other = await build(prDebugSource(2), prDebugSource(2).replace("x + 2", "x + 5"));
      expect(other.ok ? [] : other.refusals.map((x) => x.message)).toEqual([expect.stringMatching(/jump label \(static key\) other of module mymod/)]);
    } finally {
      await fs.rm(d, { recursive: true, force: true });
    }
  });
});
