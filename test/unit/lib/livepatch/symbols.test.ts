import { describe, expect, it } from "vitest";
import { UnresolvedSymbol, placeSymbol, symbolTable, type KernelSymbol } from "@/lib/livepatch/symbols";

type Row = Omit<KernelSymbol, "position">;
const fn = (name: string, fileGroup: number | undefined, file?: string): Row => ({ name, addr: 0xffffffff81000000n, size: 16, type: "FUNC", local: fileGroup !== undefined, file, fileGroup });

// A vmlinux symbol table in kallsyms order: FILE groups with their local symbols, and globals.
const TABLE = symbolTable("vmlinux", [
  fn("cmdline_proc_show", 1, "cmdline.c"),
  fn("proc_cmdline_init", 1, "cmdline.c"),
  fn("show", 2, "cpu.c"), // three `show`s of three files
  fn("cpu_helper", 2, "cpu.c"),
  fn("show", 3, "core.c"), // kernel/irq/core.c
  fn("irq_helper", 3, "core.c"),
  fn("common_local", 3, "core.c"),
  fn("show", 4, "core.c"), // drivers/base/core.c: the same base name
  fn("dev_helper", 4, "core.c"),
  fn("common_local", 4, "core.c"),
  fn("store", 5, "attr.c"),
  fn("store", undefined), // a global `store` after a local one
  fn("dup_global", undefined),
  fn("dup_global", undefined),
  fn("only_local", 5, "attr.c"),
  fn("only_local", 2, "cpu.c"),
  fn("exported_thing", undefined),
]);

const placed = (opts: Omit<Parameters<typeof placeSymbol>[0], "table">) => {
  const p = placeSymbol({ table: TABLE, ...opts });
  return { sympos: p.sympos, file: p.symbol.file, group: p.symbol.fileGroup, local: p.symbol.local };
};

describe("placeSymbol", () => {
  it.each([
    ["a unique static", { name: "cmdline_proc_show", local: true, file: "cmdline.c" }, { sympos: 0, file: "cmdline.c", group: 1, local: true }],
    ["a unique global", { name: "exported_thing", local: false }, { sympos: 0, file: undefined, group: undefined, local: false }],
    ["a duplicated static, told apart by file", { name: "show", local: true, file: "cpu.c" }, { sympos: 1, file: "cpu.c", group: 2, local: true }],
    ["a static in the first of two files of the same base name, told apart by the unit's other locals", { name: "show", local: true, file: "core.c", unitLocals: ["show", "irq_helper", "common_local"] }, { sympos: 2, file: "core.c", group: 3, local: true }],
    ["a static in the second of two files of the same base name", { name: "show", local: true, file: "core.c", unitLocals: ["dev_helper", "common_local"] }, { sympos: 3, file: "core.c", group: 4, local: true }],
    ["the same, the unit's other locals including one inlined away in the release", { name: "show", local: true, file: "core.c", unitLocals: ["dev_helper", "inlined_away_helper"] }, { sympos: 3, file: "core.c", group: 4, local: true }],
    ["a global with a local of the same name elsewhere", { name: "store", local: false }, { sympos: 2, file: undefined, group: undefined, local: false }],
    ["the local of that name, for its own file", { name: "store", local: true, file: "attr.c" }, { sympos: 1, file: "attr.c", group: 5, local: true }],
  ] as const)("%s", (_what, opts, want) => {
    expect(placed(opts)).toEqual(want);
  });

  const refused: [string, Omit<Parameters<typeof placeSymbol>[0], "table">, RegExp][] = [
    ["a name not in the table", { name: "nowhere", local: true, file: "x.c" }, /nowhere is not in vmlinux's symbol table/],
    ["two files of the same base name the unit's locals cannot tell apart", { name: "show", local: true, file: "core.c", unitLocals: ["common_local"] }, /show occurs 2 times in files named core\.c in vmlinux: cannot tell which one/],
    ["same base name, no unit locals given", { name: "show", local: true, file: "core.c" }, /show occurs 2 times in files named core\.c/],
    ["a duplicated static of a file that has none of them", { name: "show", local: true, file: "mm.c" }, /show occurs 3 times in vmlinux but none in mm\.c/],
    ["a global defined twice", { name: "dup_global", local: false }, /dup_global is defined 2 times as a global symbol/],
    ["a global reference to a name only defined as locals", { name: "only_local", local: false }, /only_local is defined only as a local symbol/],
    // A unique name must still be the symbol the patch means: the unit's static (inlined away in
    // the release) is not another file's static or a global of the same name.
    ["a static whose only namesake is another file's static", { name: "cpu_helper", local: true, file: "mm.c" }, /cpu_helper/],
    ["a static whose only namesake is a global", { name: "exported_thing", local: true, file: "mm.c" }, /exported_thing/],
    ["a global reference whose only namesake is a static", { name: "proc_cmdline_init", local: false }, /proc_cmdline_init/],
  ];
  it.each(refused)("refuses %s with UnresolvedSymbol naming it", (_what, opts, message) => {
    let caught: unknown;
    try {
      placeSymbol({ table: TABLE, ...opts });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UnresolvedSymbol);
    expect((caught as UnresolvedSymbol).symbol).toBe(opts.name);
    expect((caught as Error).message).toMatch(message);
  });

  it("accepts a unique static when the table does not know files (a module without FILE symbols)", () => {
    const table = symbolTable("nfsd", [fn("nfsd4_helper", 0)]);
    expect(placeSymbol({ table, name: "nfsd4_helper", local: true, file: "nfs4state.c" }).sympos).toBe(0);
  });
});

describe("placeSymbol in a module without FILE symbols (same-named locals told apart by symtab order)", () => {
  // bridge.ko as Debian ships it: each object's locals one run in the object's order, no FILE symbols.
  const local = (name: string, order: number): Row => ({ name, addr: 0n, size: 1, type: "OBJECT", local: true, order });
  const MODULE = symbolTable("bridge", [
    local("br_init", 0),
    local("__already_done.6", 1), // br.o
    local("br_device_event", 2),
    local("fdb_rcu_free", 3), // br_fdb.o
    local("__already_done.6", 4),
    local("fdb_delete", 5),
    local("__already_done.7", 6),
    local("fdb_insert", 7),
    local("__already_done.6", 8), // br_vlan.o
    local("__vlan_add", 9),
  ]);
  const FDB = ["fdb_rcu_free", "__already_done.6", "fdb_delete", "__already_done.7", "fdb_insert"];

  it.each([
    ["br_fdb.c's copy, between two of its locals that occur once", { name: "__already_done.6", unitLocals: FDB }, 2],
    ["br.c's copy", { name: "__already_done.6", unitLocals: ["br_init", "__already_done.6", "br_device_event"] }, 1],
    ["anchors past a neighbour that is itself not unique", { name: "__already_done.6", unitLocals: ["fdb_rcu_free", "__already_done.6", "__already_done.9", "fdb_insert"] }, 2],
    ["br_vlan.c's copy, its first local: no anchor before it, but the file's whole run of locals is there once", { name: "__already_done.6", unitLocals: ["__already_done.6", "__vlan_add"] }, 3],
  ] as const)("places %s", (_what, opts, sympos) => {
    expect(placeSymbol({ table: MODULE, local: true, file: "br_fdb.c", ...opts, unitLocals: [...opts.unitLocals] }).sympos).toBe(sympos);
  });

  it.each([
    ["no local of the file on one side and no other local to make a run", ["__already_done.6"], /no local occurring once there before it, and its locals are not one run there/],
    ["no anchor on one side and the file's run not in the table (its locals in another order)", ["__vlan_add", "__already_done.6"], /not one run there/],
    ["the file's locals in another order than compiled (not the shipped object)", ["fdb_insert", "__already_done.6", "fdb_rcu_free"], /not in its order/],
    ["the anchors enclosing two copies (runs are not what the linker writes)", ["br_init", "__already_done.6", "fdb_insert"], /2 of them lie among/],
    ["the file not having the local at all", ["fdb_rcu_free", "fdb_insert"], /has no such local/],
  ] as const)("refuses when %s", (_what, unitLocals, message) => {
    expect(() => placeSymbol({ table: MODULE, name: "__already_done.6", local: true, file: "br_fdb.c", unitLocals: [...unitLocals] })).toThrow(message);
  });
});

describe("symbolTable", () => {
  it("numbers each name's symbols from 1 in table order and groups locals by file", () => {
    expect(TABLE.lookup("show").map((s) => [s.position, s.fileGroup])).toEqual([
      [1, 2],
      [2, 3],
      [3, 4],
    ]);
    expect([...TABLE.groupLocals(4)].sort()).toEqual(["common_local", "dev_helper", "show"]);
    expect(TABLE.lookup("missing")).toEqual([]);
  });
});
