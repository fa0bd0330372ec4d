import * as fs from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ElfError, STB, readElf, readSectionTable, writeElf } from "@/lib/livepatch/elf";
import { compile, parseSections, parseSymbols, tempDir, tool, writeTemp } from "./helpers";

// Objects with what kernel objects have: strings, static locals, .cold parts, data, bss, __init code.
const SOURCES: Record<string, string> = {
  strings: `
extern int printk(const char *fmt, ...);
int greet(void) { return printk("hello %d\\n", 1); }
int farewell(int x) { return printk("bye %d %s\\n", x, "now"); }
`,
  statics: `
extern int printk(const char *fmt, ...);
static int state;
static int __attribute__((noinline, noclone)) helper(int x) { return x * 3 + state; }
void set_state(int v) { state = v; }
int f(void) { static int counter; counter++; return printk("f=%d\\n", counter + helper(counter)); }
int g(void) { static int counter; counter += 2; return printk("g=%d\\n", counter); }
int initval = 5;
int arr[4];
const int table[3] = { 1, 2, 3 };
__attribute__((section(".init.text"))) int setup_thing(void) { return printk("init\\n") + table[1]; }
`,
  cold: `
extern int printk(const char *fmt, ...);
extern void report(int) __attribute__((cold));
int check(int x) { int s = 0; for (int i = 0; i < x; i++) { if (__builtin_expect(i == 1000, 0)) { report(i); printk("too big %d\\n", x); report(x); } s += i * x; } return s; }
`,
};

let dir: string;
const objects: Record<string, { path: string; bytes: Buffer }> = {};
beforeAll(async () => {
  dir = await tempDir("elf");
  for (const [name, src] of Object.entries(SOURCES)) objects[name] = await compile(dir, name, src);
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Tool output with what differs between two files of the same content removed (file names, file offsets). */
const normalise = (s: string, file: string) =>
  s
    .replaceAll(file, "FILE")
    .replace(/ at offset 0x[0-9a-f]+/g, "")
    .replace(/starting at offset 0x[0-9a-f]+/g, "");

describe("readElf → writeElf", () => {
  it.each(Object.keys(SOURCES))("keeps objdump -dr, readelf -r and readelf -s of %s.o identical", async (name) => {
    const original = objects[name] as { path: string; bytes: Buffer };
    const copy = await writeTemp(dir, `${name}.copy.o`, writeElf(readElf(original.bytes)));
    for (const args of [["objdump", "-dr"], ["readelf", "-rW"], ["readelf", "-sW"]] as const) {
      const a = await tool(args[0], [args[1], original.path]);
      const b = await tool(args[0], [args[1], copy]);
      expect(b.stderr, `${args.join(" ")} complains about the copy`).toBe("");
      expect(normalise(b.stdout, copy), args.join(" ")).toBe(normalise(a.stdout, original.path));
    }
    // Every section keeps its bytes (the relocation sections are rebuilt from the model).
    // The symbol and string tables are rebuilt (gcc shares name suffixes, writeElf does not): compared above through readelf -s.
    const tables = (s: { name: string }) => ![".symtab", ".strtab", ".shstrtab"].includes(s.name);
    const sa = readSectionTable(original.bytes).filter(tables);
    const sb = readSectionTable(await fs.readFile(copy)).filter(tables);
    expect(sb.map((s) => [s.name, s.type, s.flags, s.size])).toEqual(sa.map((s) => [s.name, s.type, s.flags, s.size]));
    for (let i = 0; i < sa.length; i++) {
      const x = sa[i] as (typeof sa)[number];
      const y = sb[i] as (typeof sb)[number];
      if (x.type === 8 /* NOBITS */) continue;
      expect(Buffer.compare(original.bytes.subarray(x.offset, x.offset + x.size), (await fs.readFile(copy)).subarray(y.offset, y.offset + y.size)), x.name).toBe(0);
    }
  });

  it("puts local symbols first with .symtab's sh_info one past the last local, and ld -r links the result", async () => {
    const original = objects.statics as { path: string; bytes: Buffer };
    const obj = readElf(original.bytes);
    // Globals first, as no ELF file may have them: writeElf must reorder and renumber.
    obj.symbols = [...obj.symbols.filter((s) => s.bind !== STB.LOCAL), ...obj.symbols.filter((s) => s.bind === STB.LOCAL)];
    expect((obj.symbols[0] as { bind: number }).bind).not.toBe(STB.LOCAL);
    const file = await writeTemp(dir, "reordered.o", writeElf(obj));

    const syms = await tool("readelf", ["-sW", file]);
    expect(syms.stderr).toBe(""); // readelf warns about a local symbol past sh_info
    const rows = parseSymbols(syms.stdout);
    const firstGlobal = rows.findIndex((r) => r.bind !== "LOCAL");
    expect(firstGlobal).toBeGreaterThan(0);
    expect(rows.slice(firstGlobal).every((r) => r.bind !== "LOCAL")).toBe(true);
    const sections = parseSections((await tool("readelf", ["-SW", file])).stdout);
    expect(sections.find((s) => s.name === ".symtab")?.info).toBe(firstGlobal);

    // The relocations still name the right symbols after the renumbering.
    const a = await tool("objdump", ["-dr", original.path]);
    const b = await tool("objdump", ["-dr", file]);
    expect(normalise(b.stdout, file)).toBe(normalise(a.stdout, original.path));

    const linked = path.join(dir, "reordered-linked.o");
    const ld = await tool("ld", ["-r", "-o", linked, file, (objects.strings as { path: string }).path]);
    expect(ld.stderr).toBe("");
    const linkedSyms = parseSymbols((await tool("readelf", ["-sW", linked])).stdout);
    expect(linkedSyms.filter((s) => s.bind === "GLOBAL" && s.ndx !== "UND").map((s) => s.name).sort()).toEqual(["arr", "f", "farewell", "g", "greet", "initval", "set_state", "setup_thing", "table"]);
  });
});

describe("input that is not a 64-bit little-endian ELF file", () => {
  const elf = () => Buffer.from((objects.strings as { bytes: Buffer }).bytes);
  /** A real object file with one byte of its ELF identification changed. */
  const withIdentByte = (at: number, value: number) => () => {
    const b = elf();
    b[at] = value;
    return b;
  };
  const cases: [string, () => Buffer, RegExp][] = [
    ["text", () => Buffer.from("this is not an object file, just text that is long enough to hold an ELF header........"), /not an ELF file/],
    ["an empty file", () => Buffer.alloc(0), /not an ELF file/],
    ["a 32-bit ELF file", withIdentByte(4, 1 /* ELFCLASS32 */), /not a 64-bit little-endian ELF file/],
    ["a big-endian ELF file", withIdentByte(5, 2 /* ELFDATA2MSB */), /not a 64-bit little-endian ELF file/],
    ["a truncated file", () => elf().subarray(0, 200), /outside the file/],
  ];
  it.each(cases)("%s is refused with an ElfError", (_what, bytes, message) => {
    for (const read of [readElf, readSectionTable]) {
      let caught: unknown;
      try {
        read(bytes());
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ElfError);
      expect((caught as Error).message).toMatch(message);
    }
  });
});
