import { describe, expect, it } from "vitest";
import { kallsymsIgnores, kallsymsOrder, mksysmapKeeps, parseSystemMap, symposByEntry } from "@/lib/builds/release/kallsyms";

describe("kallsyms order (scripts/kallsyms.c of 6.1)", () => {
  it("parses System.map lines", () => {
    expect(parseSystemMap("ffffffff81000000 T _text\nffffffff81053ca0 t show\n\n0000000000000000 D __per_cpu_start\n")).toEqual([
      { address: 0xffffffff81000000n, letter: "T", name: "_text" },
      { address: 0xffffffff81053ca0n, letter: "t", name: "show" },
      { address: 0n, letter: "D", name: "__per_cpu_start" },
    ]);
  });

  it.each([
    ["show", "t", false],
    ["saved_command_line", "B", false],
    ["kallsyms_names", "R", true],
    ["__kcfi_typeid_foo", "A", true],
    ["some_abs", "A", true],
    ["some_local_abs", "a", true],
    ["__gp", "A", false],
    ["undefined", "U", true],
    ["debug", "N", true],
    ["x_veneer", "t", true],
    ["a.long_branch.b", "t", true],
    [".LC0", "r", true],
  ])("%s (%s) ignored: %s", (name, letter, ignored) => {
    expect(kallsymsIgnores(name, letter)).toBe(ignored);
  });

  it.each([
    ["ffffffff81000000 T _text", true],
    ["0000000000000000 a some_abs", false],
    ["                 w weak_undef", false],
    ["ffffffff81000000 t $x", false],
    ["ffffffff81000000 r .LC0", false],
    ["ffffffff81000000 r __crc_foo", false],
    ["ffffffff82000000 r __kstrtab_printk", false],
    ["ffffffff82000000 r __kstrtabns_printk", false],
  ])("mksysmap keeps %j: %s", (line, kept) => {
    expect(mksysmapKeeps(line)).toBe(kept);
  });

  it("sorts by address, then strong before weak, then not linker-provided first, then fewer leading underscores, then map order", () => {
    const map = parseSystemMap(
      [
        "0000000000000030 t show", // out of order on purpose
        "0000000000000010 W weakling",
        "0000000000000010 T strong",
        "0000000000000020 D __start_foo",
        "0000000000000020 D __foo",
        "0000000000000020 D _foo",
        "0000000000000020 D foo",
        "0000000000000040 A absolute",
        "0000000000000005 t show",
      ].join("\n"),
    );
    expect(kallsymsOrder(map).map((e) => e.name)).toEqual(["show", "strong", "weakling", "foo", "_foo", "__foo", "__start_foo", "show"]);
  });

  it("sympos: 0 for a unique name, else 1-based in kallsyms order", () => {
    const ordered = kallsymsOrder(parseSystemMap("10 t show\n20 T unique\n30 t show\n40 t show\n"));
    expect(symposByEntry(ordered)).toEqual([1, 0, 2, 3]);
  });
});
