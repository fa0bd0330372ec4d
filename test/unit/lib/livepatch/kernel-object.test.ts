import { describe, expect, it } from "vitest";
import { SHF, SHT, type Section } from "@/lib/livepatch/elf";
import { baseName, coldParent, sectionKind, type SectionKind } from "@/lib/livepatch/kernel-object";

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
