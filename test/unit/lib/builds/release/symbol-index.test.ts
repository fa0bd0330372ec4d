// The symbol index on an ELF the test compiles: three files with a static `count` each, two with a
// static function `show`; one of them (c.c) has no local function, only data, so its source path
// can only come from link order. a.c is compiled by absolute path (its compile unit is named
// /tmp/…/sub/a.c), b.c and c.c by relative path, as Debian's prefix maps make them.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mksysmapKeeps } from "@/lib/builds/release/kallsyms";
import { buildSymbolIndex, longestIncreasing, parseSymbolIndex, serializeSymbolIndex, SymbolIndex, type KernelSymbol } from "@/lib/builds/release/symbol-index";
import { indexElf } from "@/lib/builds/release/symbols";

const SOURCES: Record<string, string> = {
  "sub/a.c": `static int count;
__attribute__((noinline, noclone)) static int show(int x) { return x + count++; }
int a_entry(int x) { return show(x) * 2; }
`,
  "sub/b.c": `static int count = 5;
__attribute__((noinline, noclone)) static int show(int x) { return x * 3 + count++; }
int b_entry(int x) { return show(x) + 1; }
`,
  "sub/c.c": `static int count = 7;
int *c_count(void) { return &count; }
`,
  "main.c": `int a_entry(int); int b_entry(int); int *c_count(void);
int main(int argc, char **argv) { (void)argv; return a_entry(argc) + b_entry(argc) + *c_count(); }
`,
};

let dir: string;
let prog: string;
let relocatable: string;
const ctx = { release: "test", signal: new AbortController().signal, log: () => {} };
const nmAddress = (file: string, name: string): bigint[] =>
  execFileSync("nm", ["-n", file], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.endsWith(` ${name}`))
    .map((l) => BigInt(`0x${l.split(" ")[0]}`));

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-symidx-"));
  for (const [name, text] of Object.entries(SOURCES)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  const cc = (src: string, out: string) => execFileSync("gcc", ["-O2", "-g", "-fno-pie", "-c", src, "-o", out], { cwd: dir });
  cc(path.join(dir, "sub/a.c"), "a.o");
  cc("sub/b.c", "b.o");
  cc("sub/c.c", "c.o");
  cc("main.c", "main.o");
  prog = path.join(dir, "prog");
  execFileSync("gcc", ["-no-pie", "-g", "main.o", "a.o", "b.o", "c.o", "-o", prog], { cwd: dir });
  fs.writeFileSync(path.join(dir, "System.map"), execFileSync("nm", ["-n", prog], { encoding: "utf8" }).split("\n").filter(mksysmapKeeps).join("\n"));
  relocatable = path.join(dir, "mod.o");
  execFileSync("ld", ["-r", "a.o", "b.o", "c.o", "-o", relocatable], { cwd: dir });
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function vmlinuxLike(withMap = true): Promise<SymbolIndex> {
  const r = await indexElf({ ctx, elf: prog, object: "vmlinux", kind: "vmlinux", tree: dir, ...(withMap ? { systemMap: path.join(dir, "System.map") } : {}) });
  expect(r.stats.unmatchedMapEntries).toBe(0);
  return new SymbolIndex(r.data);
}

describe("symbol index of a linked ELF (as vmlinux)", () => {
  it("has every symbol with address, size, type, binding and section", async () => {
    const idx = await vmlinuxLike();
    const [entry] = idx.byName("a_entry");
    expect(entry).toMatchObject({ type: "FUNC", bind: "GLOBAL", section: ".text", sympos: 0 });
    expect(entry!.address).toBe(nmAddress(prog, "a_entry")[0]);
    expect(entry!.size).toBeGreaterThan(0);
    expect(idx.byName("count").map((s) => [s.type, s.bind, s.section])).toEqual([
      ["OBJECT", "LOCAL", ".bss"],
      ["OBJECT", "LOCAL", ".data"],
      ["OBJECT", "LOCAL", ".data"],
    ]);
  });

  it("attributes each local symbol to its file, with the source path from DWARF (by address, and by link order for a data-only file)", async () => {
    const idx = await vmlinuxLike();
    const files = (name: string) => idx.byName(name).map((s) => idx.fileOf(s));
    expect(files("show")).toEqual([
      { id: expect.any(Number), name: "a.c", path: "sub/a.c" },
      { id: expect.any(Number), name: "b.c", path: "sub/b.c" },
    ]);
    expect(files("count").map((f) => f?.path)).toEqual(["sub/a.c", "sub/b.c", "sub/c.c"]);
    expect(idx.fileOf(idx.byName("a_entry")[0]!)).toBeUndefined();
  });

  it("gives livepatch's sympos: 1-based in address order among same-named symbols, 0 when unique", async () => {
    const idx = await vmlinuxLike();
    const shows = [...idx.byName("show")].sort((a, b) => (a.address < b.address ? -1 : 1));
    expect(shows.map((s) => s.sympos)).toEqual([1, 2]);
    expect(shows.map((s) => s.address)).toEqual(nmAddress(prog, "show"));
    const counts = [...idx.byName("count")].sort((a, b) => (a.address < b.address ? -1 : 1));
    expect(counts.map((s) => s.sympos)).toEqual([1, 2, 3]);
    expect(idx.byName("main")[0]!.sympos).toBe(0);
  });

  it("the same without a System.map (nm -n through mksysmap's filter)", async () => {
    const a = await vmlinuxLike(true);
    const b = await vmlinuxLike(false);
    expect(b.symbols).toEqual(a.symbols);
  });

  it("looks a symbol up by file, never guessing", async () => {
    const idx = await vmlinuxLike();
    const found = (r: ReturnType<SymbolIndex["lookup"]>): KernelSymbol => {
      expect(r.kind).toBe("found");
      return (r as { symbol: KernelSymbol }).symbol;
    };
    expect(idx.fileOf(found(idx.lookup("show", { path: "sub/b.c" })))?.path).toBe("sub/b.c");
    expect(idx.fileOf(found(idx.lookup("show", { path: "sub/a.c", type: "FUNC" })))?.path).toBe("sub/a.c");
    expect(idx.fileOf(found(idx.lookup("count", { path: "sub/c.c", type: "OBJECT" })))?.path).toBe("sub/c.c");
    expect(found(idx.lookup("b_entry")).bind).toBe("GLOBAL");
    // A local symbol is never what a global reference means, nor one of another file.
    expect(idx.lookup("show")).toMatchObject({ kind: "missing" });
    expect(idx.lookup("show", { path: "sub/c.c" })).toMatchObject({ kind: "missing" });
    expect(idx.lookup("show", { path: "sub/a.c", type: "OBJECT" })).toMatchObject({ kind: "missing" });
    expect(idx.lookup("nothing_of_the_kind")).toMatchObject({ kind: "missing", unlisted: [] });
  });

  it("finds the function holding an address", async () => {
    const idx = await vmlinuxLike();
    const show = idx.lookup("show", { path: "sub/b.c" });
    const sym = (show as { symbol: KernelSymbol }).symbol;
    expect(idx.containing(sym.address + 1n)).toBe(sym);
    expect(idx.containing(sym.address + BigInt(sym.size) + 100000n)?.name).not.toBe("show");
  });

  it("survives storage unchanged", async () => {
    const idx = await vmlinuxLike();
    const again = parseSymbolIndex(serializeSymbolIndex({ format: "splicer-symbol-index/1", object: idx.object, order: idx.order, files: [...idx.files], symbols: [...idx.symbols] }));
    expect(again.symbols).toEqual(idx.symbols);
    expect(again.files).toEqual(idx.files);
    expect(() => parseSymbolIndex('{"format":"other"}')).toThrow(/not a symbol index/);
  });
});

describe("symbol index of a relocatable object (as a module)", () => {
  it("counts sympos in symbol-table order and keeps FILE groups by base name", async () => {
    const r = await indexElf({ ctx, elf: relocatable, object: "mod", kind: "module" });
    const idx = new SymbolIndex(r.data);
    expect(idx.order).toBe("module-symtab");
    const shows = idx.byName("show");
    expect(shows.map((s) => [idx.fileOf(s)?.name, s.sympos])).toEqual([
      ["a.c", 1],
      ["b.c", 2],
    ]);
    expect(idx.byName("count").map((s) => [idx.fileOf(s)?.name, s.sympos])).toEqual([
      ["a.c", 1],
      ["b.c", 2],
      ["c.c", 3],
    ]);
    expect(idx.files.every((f) => f.path === undefined)).toBe(true);
    expect(idx.lookup("count", { path: "sub/c.c" })).toMatchObject({ kind: "found" });
  });
});

describe("pure parts", () => {
  it.each([
    [[], []],
    [[5], [0]],
    [[1, 2, 3], [0, 1, 2]],
    [[100, 1, 2, 200, 3], [1, 2, 4]],
    [[3, 2, 1], [2]],
  ])("longest increasing run of %j", (xs, idx) => {
    expect(longestIncreasing(xs).map((i) => xs[i])).toEqual(idx.map((i) => xs[i]));
  });

  it("does not attribute a group whose functions fall in two compile units", () => {
    const sym = (index: number, name: string, type: string, bind: string, value: bigint, size = 4) => ({ index, value, size, type, bind, visibility: "DEFAULT", ndx: type === "FILE" ? ("ABS" as const) : 1, name });
    const r = buildSymbolIndex({
      object: "vmlinux",
      sections: [{ index: 1, name: ".text", type: "PROGBITS", address: 0x1000n, offset: 0, size: 0x100, flags: "AX" }],
      symbols: [sym(1, "x.c", "FILE", "LOCAL", 0n), sym(2, "f", "FUNC", "LOCAL", 0x1000n), sym(3, "g", "FUNC", "LOCAL", 0x1010n)],
      systemMap: [
        { address: 0x1000n, letter: "t", name: "f" },
        { address: 0x1010n, letter: "t", name: "g" },
      ],
      dwarf: {
        units: [{ offset: 0, name: "a/x.c" }, { offset: 10, name: "b/x.c" }],
        ranges: [{ start: 0x1000n, end: 0x1008n, unit: 0 }, { start: 0x1010n, end: 0x1018n, unit: 10 }],
        relativize: (u) => u.name,
      },
    });
    expect(r.data.files).toEqual([{ id: 0, name: "x.c" }]);
    expect(r.stats.filesWithPath).toBe(0);
  });
});
