import * as fs from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readElf, SHF, SHT, STB, STT, type Rela, type Section } from "@/lib/livepatch/elf";
import { baseName, coldParent, indexObject, resolveTarget, sectionKind, type ObjectIndex, type SectionKind } from "@/lib/livepatch/kernel-object";
import { compile, tempDir } from "./helpers";

const W = SHF.WRITE;
const A = SHF.ALLOC;
const X = SHF.EXECINSTR;
const MS = SHF.MERGE | SHF.STRINGS;
const section = (name: string, flags: bigint, type: number = SHT.PROGBITS): Section => ({ name, type, flags, addr: 0n, addralign: 1, entsize: 0, data: Buffer.alloc(0), size: 0, index: 0 });

describe("sectionKind", () => {
  it.each([
    [".text.cmdline_proc_show", A | X, "text"],
    [".text.unlikely.check", A | X, "text"],
    [".init.text", A | X, "init"],
    [".exit.text", A | X, "init"],
    [".init.data", A | W, "init"],
    [".initcall6.init", A, "init"],
    ["__param", A, "init"],
    [".data.limit", A | W, "data"],
    [".bss.counter.0", A | W, "data"],
    [".data.once", A | W, "data"],
    [".rodata.table", A, "rodata"],
    [".rodata.show.str1.1", A | MS, "strings"],
    [".rodata.str1.8", A | MS, "strings"],
    [".rodata.cst16", A | SHF.MERGE, "strings"],
    ["__mcount_loc", A, "special"],
    ["__ex_table", A, "special"],
    [".altinstr_replacement", A | X, "special"],
    [".orc_unwind", A, "special"],
    [".comment", MS, "ignored"],
    [".note.GNU-stack", 0n, "ignored"],
    [".debug_info", 0n, "ignored"],
    [".discard.reachable", 0n, "ignored"],
    [".modinfo", A, "other"],
  ] as [string, bigint, SectionKind][])("%s is %s", (name, flags, kind) => {
    expect(sectionKind(section(name, flags))).toBe(kind);
  });

  it("a relocation section is ignored whatever its name", () => {
    expect(sectionKind(section(".rela.text.show", SHF.INFO_LINK, SHT.RELA))).toBe("ignored");
  });
});

describe("names", () => {
  it.each([
    ["counter.3", "counter"],
    ["__already_done.12", "__already_done"],
    ["show", "show"],
    ["foo.constprop.0", "foo.constprop"],
  ])("baseName(%s) = %s", (name, base) => {
    expect(baseName(name)).toBe(base);
  });

  it.each([
    ["check.cold", "check"],
    ["check.cold.3", "check"],
    ["foo.isra.0.cold", "foo.isra.0"],
    ["check", undefined],
    ["coldness", undefined],
    ["cold", undefined],
  ])("coldParent(%s) = %s", (name, parent) => {
    expect(coldParent(name)).toBe(parent);
  });
});

// `__ref` functions share one section (.ref.text), function sections or not: a reference to a
// place in it is told by the function around it, or (ORC's terminator entries) whose end it is.
describe("resolveTarget in a section of several functions", () => {
  let idx: ObjectIndex;
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir("kobj");
    const src = `__attribute__((section(".ref.text"), noinline)) int first(int x) { return x * 3 + 1; }
__attribute__((section(".ref.text"), noinline)) int second(int x) { return x * 5 + first(x); }
`;
    idx = indexObject(readElf((await compile(dir, "reftext", src)).bytes));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });
  const at = (addend: bigint) => {
    const section = idx.obj.sections.find((s) => s.name === ".ref.text")!;
    // The assembler leaves out section symbols nothing refers to: the one a relocation would use.
    const sym = idx.sectionSymbol.get(section) ?? { name: "", value: 0n, size: 0n, type: STT.SECTION, bind: STB.LOCAL, other: 0, section, shndx: section.index, index: 0 };
    return resolveTarget(idx, { offset: 0n, type: 1 /* R_X86_64_64: no PC bias */, sym, addend } as Rela);
  };
  const fn = (name: string) => idx.byName.get(name)!;

  it("names the function a place is in", () => {
    expect(at(fn("second").value + 3n)).toMatchObject({ kind: "symbol", sym: fn("second"), delta: 3n });
  });

  it("names the function a place is the end of", () => {
    const first = fn("first");
    expect(first.value + first.size).toBeLessThan(fn("second").value); // padding between them, else the case proves nothing
    expect(at(first.value + first.size)).toMatchObject({ kind: "symbol", sym: first, delta: first.size });
    expect(at(fn("second").value + fn("second").size)).toMatchObject({ kind: "symbol", sym: fn("second"), delta: fn("second").size });
  });

  it("leaves a place past an end, in the padding, unnamed", () => {
    const first = fn("first");
    expect(at(first.value + first.size + 1n)).toMatchObject({ kind: "section" });
  });
});
