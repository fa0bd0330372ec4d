import * as fs from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EM_X86_64, ET, SHF, SHN, SHT, STB, STT, readElf, readSectionTable, writeElf, type ElfObject, type Section, type Sym } from "@/lib/livepatch/elf";
import { KlpLayoutError, klpRelocations, type KlpConversion } from "@/lib/livepatch/klp";
import { buildShowPatch, compile, localName, parseRelocations, parseSections, parseSymbols, tempDir, tool, writeTemp } from "./helpers";

// What kbuild links the patch object with: the klp_patch registration, here without kernel headers.
const WRAPPER = `extern char __splicer_new_0[];
struct func { const char *old_name; void *new_func; unsigned long old_sympos; };
struct func funcs[] = { { "show", __splicer_new_0, 1 }, { 0, 0, 0 } };
int init_module(void) { return 0; }
`;

interface Linked {
  ko: string;
  out: string;
  conv: KlpConversion;
}

let dir: string;
/** A patch object linked with ld -r into a fake .ko and converted. */
async function link(name: string, sympos?: Parameters<typeof buildShowPatch>[1], object?: (name: string) => string, objectOf?: Map<string, string | null>): Promise<Linked> {
  const d = path.join(dir, name);
  await fs.mkdir(d);
  const built = await buildShowPatch(d, sympos);
  if (!built.result.ok) throw new Error(built.result.refusals.map((r) => r.message).join("; "));
  let patch = built.result.object;
  if (object) {
    // Another klp_object for some symbols: rename them as a resolver naming that module would.
    for (const s of patch.symbols) {
      const m = /^\.klp\.sym\.vmlinux\.([^,]+),(\d+)$/.exec(s.name);
      if (m && object(m[1] as string) !== "vmlinux") s.name = `.klp.sym.${object(m[1] as string)}.${m[1]},${m[2]}`;
    }
    patch = readElf(writeElf(patch));
  }
  const patchPath = await writeTemp(d, "patch.o", writeElf(patch));
  const wrapper = await compile(d, "wrapper", WRAPPER);
  const ko = path.join(d, "fake.ko");
  await tool("ld", ["-r", "-o", ko, wrapper.path, patchPath]);
  const conv = klpRelocations(await fs.readFile(ko), { objectOf });
  const out = await writeTemp(d, "out.ko", conv.bytes);
  return { ko, out, conv };
}

let vmlinux: Linked;
let mixed: Linked;
// show patched in the module nfsd: helper, state and show's static locals are nfsd's, the rest
// another module's (sunrpc's, as nfsd4_sequence reaches svc_reserve).
const ofNfsd = (name: string) => (name === "helper" || name === "state" || /^(counter|warned)\.\d+$/.test(name) ? "nfsd" : "sunrpc");
beforeAll(async () => {
  dir = await tempDir("klp");
  vmlinux = await link("vmlinux");
  mixed = await link("mixed", undefined, ofNfsd, new Map([[".text.show", "nfsd"]]));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const relocations = async (file: string) => parseRelocations((await tool("readelf", ["-rW", file])).stdout);

describe("klpRelocations on a linked module", () => {
  it.each([
    ["vmlinux", () => vmlinux, ["vmlinux"]],
    // All in nfsd's section, applied when nfsd loads (sunrpc is loaded by then: nfsd needs it).
    ["a module reaching another module", () => mixed, ["nfsd"]],
  ] as const)("moves the relocations against .klp.sym symbols into .klp.rela sections (%s)", async (_what, get, objects) => {
    const { ko, out, conv } = get();
    const before = (await relocations(ko)).get(".rela.text.show") ?? [];
    const after = await relocations(out);
    const sectionsOut = await tool("readelf", ["-SW", out]);
    expect(sectionsOut.stderr).toBe("");
    const sections = parseSections(sectionsOut.stdout);
    const text = sections.find((s) => s.name === ".text.show");
    const symtab = sections.find((s) => s.name === ".symtab");
    expect(Object.keys(conv.sections).sort()).toEqual(objects.map((o) => `.klp.rela.${o}.text.show`));
    for (const o of objects) {
      const name = `.klp.rela.${o}.text.show`;
      const sec = sections.find((s) => s.name === name);
      expect(sec, name).toBeDefined();
      expect(sec?.type).toBe("RELA");
      expect(sec?.flags).toContain("A");
      expect(sec?.flags).toContain("o"); // SHF_RELA_LIVEPATCH, an OS-specific flag
      expect(sec?.info).toBe(text?.nr);
      expect(sec?.link).toBe(symtab?.nr);
      const raw = readSectionTable(await fs.readFile(out)).find((s) => s.name === name);
      expect(raw?.flags).toBe(SHF.ALLOC | SHF.INFO_LINK | SHF.RELA_LIVEPATCH);
      // Exactly the relocations against this object's livepatch symbols, with their types and addends.
      const moved = before.filter((r) => r.target.startsWith(".klp.sym."));
      expect(moved.length).toBeGreaterThan(0);
      expect(conv.sections[name]).toBe(moved.length);
      expect(after.get(name)).toEqual(moved);
    }
    // What is left for the module loader: everything else, in order.
    expect(after.get(".rela.text.show")).toEqual(before.filter((r) => !r.target.startsWith(".klp.sym.")));
  });

  it("puts the livepatch symbols in SHN_LIVEPATCH and leaves only exports undefined", async () => {
    for (const { out, conv } of [vmlinux, mixed]) {
      const read = await tool("readelf", ["-sW", out]);
      expect(read.stderr).toBe("");
      const syms = parseSymbols(read.stdout);
      const klp = syms.filter((s) => s.name.startsWith(".klp.sym."));
      expect(klp.length).toBe(5);
      for (const s of klp) expect(s).toMatchObject({ ndx: "OS [0xff20]", bind: "GLOBAL" });
      expect(syms.filter((s) => s.ndx === "UND" && s.name !== "").map((s) => s.name).sort()).toEqual(["exported_fn", "printk"]);
      expect(conv.undefined.sort()).toEqual(["exported_fn", "printk"]);
    }
  });

  it("keeps the module's code and the wrapper's relocations", async () => {
    const hex = async (file: string, section: string) => (await tool("readelf", ["-x", section, file])).stdout.replace(/^.*Hex dump.*$/m, "");
    expect(await hex(vmlinux.out, ".text.show")).toBe(await hex(vmlinux.ko, ".text.show"));
    const before = await relocations(vmlinux.ko);
    const after = await relocations(vmlinux.out);
    for (const [name, list] of before) if (name !== ".rela.text.show") expect(after.get(name), name).toEqual(list);
  });
});

describe("malformed livepatch symbols", () => {
  /** An object whose one function refers to an undefined symbol `name` (or one defined in it). */
  function objectReferring(name: string, opts: { defined?: boolean; fromNonAlloc?: boolean } = {}): Buffer {
    const text: Section = { name: opts.fromNonAlloc ? ".debug_stuff" : ".text.f", type: SHT.PROGBITS, flags: opts.fromNonAlloc ? 0n : SHF.ALLOC | SHF.EXECINSTR, addr: 0n, addralign: 16, entsize: 0, data: Buffer.from("e800000000c3", "hex"), size: 6, index: 0 };
    const target: Sym = { name, value: 0n, size: 0n, type: STT.NOTYPE, bind: STB.GLOBAL, other: 0, section: opts.defined ? text : undefined, shndx: SHN.UNDEF, index: 0 };
    const rela: Section = { name: `.rela${text.name}`, type: SHT.RELA, flags: SHF.INFO_LINK, addr: 0n, addralign: 8, entsize: 24, data: Buffer.alloc(0), size: 0, index: 0, target: text, relas: [{ offset: 1n, type: 4, sym: target, addend: -4n }] };
    const obj: ElfObject = { type: ET.REL, machine: EM_X86_64, flags: 0, osabi: 0, sections: [text, rela], symbols: [target] };
    return writeElf(obj);
  }

  it("converts a well-formed one (the control for the cases below)", () => {
    const conv = klpRelocations(objectReferring(".klp.sym.vmlinux.saved_command_line,0"));
    expect(conv.sections).toEqual({ ".klp.rela.vmlinux.text.f": 1 });
  });

  it.each([".klp.sym.vmlinux.helper", ".klp.sym.vmlinux.helper,x", ".klp.sym.vmlinux.helper,", ".klp.sym.vmlinux,0", ".klp.sym..helper,0", ".klp.sym.vmlinux.helper,1,2", ".klp.sym.vmlinux.helper,-1"])(
    "refuses %s",
    (name) => {
      expect(() => klpRelocations(objectReferring(name))).toThrow(`malformed livepatch symbol ${name}`);
    },
  );

  it("refuses a livepatch symbol the module defines", () => {
    expect(() => klpRelocations(objectReferring(".klp.sym.vmlinux.helper,0", { defined: true }))).toThrow(/defined in the module/);
  });

  it("refuses what kernel/livepatch/core.c would refuse or never apply", () => {
    const nfsd = new Map([[".text.f", "nfsd"]]);
    expect(klpRelocations(objectReferring(".klp.sym.sunrpc.svc_reserve,0"), { objectOf: nfsd }).sections).toEqual({ ".klp.rela.nfsd.text.f": 1 });
    expect(() => klpRelocations(objectReferring(".klp.sym.vmlinux.saved_command_line,0"), { objectOf: nfsd })).toThrow(KlpLayoutError);
    expect(() => klpRelocations(objectReferring(".klp.sym.vmlinux.saved_command_line,0"), { objectOf: nfsd })).toThrow(/nfsd's new code refers to saved_command_line, a symbol of vmlinux/);
    expect(() => klpRelocations(objectReferring(".klp.sym.nfsd.nfsd_serv,0"), { objectOf: new Map([[".text.f", "vmlinux"]]) })).toThrow(/new code in vmlinux refers to nfsd_serv of the module nfsd/);
    expect(() => klpRelocations(objectReferring(".klp.sym.nfsd.nfsd_serv,0"), { objectOf: new Map([[".text.f", null]]) })).toThrow(/\.text\.f holds code of several patched objects/);
  });

  it("refuses a livepatch symbol used from a section that is not loaded", () => {
    expect(() => klpRelocations(objectReferring(".klp.sym.vmlinux.helper,0", { fromNonAlloc: true }))).toThrow(/non-allocated section \.debug_stuff/);
  });

  it("the static local names of the patch are valid klp symbol names", async () => {
    // `counter.0` has a dot after the object name: the kernel reads `.klp.sym.%55[^.].%511[^,],%lu`.
    const d = await tempDir("klp-local");
    try {
      const built = await buildShowPatch(d);
      const counter = localName(built.diff, "pre", "counter", "show");
      expect(counter).toMatch(/^counter\.\d+$/);
      expect(vmlinux.conv.sections[".klp.rela.vmlinux.text.show"]).toBeGreaterThan(0);
      const syms = parseSymbols((await tool("readelf", ["-sW", vmlinux.out])).stdout);
      expect(syms.find((s) => s.name === `.klp.sym.vmlinux.${counter},3`)?.ndx).toBe("OS [0xff20]");
    } finally {
      await fs.rm(d, { recursive: true, force: true });
    }
  });
});
