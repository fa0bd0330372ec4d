// What the sections of a kernel object compiled with -ffunction-sections -fdata-sections mean
// (x86_64, Linux 6.1), and which symbol a relocation really points at.
import { SHF, SHT, STB, STT, type ElfObject, type Rela, type Section, type Sym } from "./elf";
import { instructionEnd } from "./x86-insn";

/**
 * Tables whose entries point into functions, by entry size (arch/x86/include/asm/*.h in 6.1).
 * A livepatch module carries the entries of the functions it contains and no others.
 * `pair` is a table with no relocations whose entries go with this one's by index (ORC).
 */
export const SPECIAL_SECTIONS: Record<string, { entrySize: number; pair?: { name: string; entrySize: number } }> = {
  __mcount_loc: { entrySize: 8 },
  __ex_table: { entrySize: 12 },
  __bug_table: { entrySize: 12 },
  __jump_table: { entrySize: 16 },
  ".altinstructions": { entrySize: 12 },
  ".parainstructions": { entrySize: 16 },
  ".static_call_sites": { entrySize: 8 },
  ".smp_locks": { entrySize: 4 },
  ".retpoline_sites": { entrySize: 4 },
  ".return_sites": { entrySize: 4 },
  ".call_sites": { entrySize: 4 },
  ".ibt_endbr_seal": { entrySize: 4 },
  ".orc_unwind_ip": { entrySize: 4, pair: { name: ".orc_unwind", entrySize: 6 } },
};
/** Code only reachable through .altinstructions entries: carried whole when any entry is. */
export const ALT_REPLACEMENT = ".altinstr_replacement";
/** Dynamic debug descriptors (include/linux/dynamic_debug.h), pr_debug's static keys among them. */
export const DYNDBG = "__dyndbg";
/** static_cpu_has()'s stubs, jumped to from the functions until alternatives are applied. */
export const ALT_AUX = ".altinstr_aux";

export type SectionKind =
  | "text" // one function (or its .cold part)
  | "init" // __init/__exit code or data: never patched
  | "data" // writable data
  | "rodata" // read-only data of one variable
  | "strings" // merged string or constant pool (.rodata.str*, .rodata.cst*)
  | "special"
  | "ignored" // debug info, notes, .discard.*, section-symbol-only bookkeeping
  | "other";

export function sectionKind(s: Section): SectionKind {
  const n = s.name;
  if (s.type === SHT.RELA) return "ignored";
  if (n.startsWith(".debug") || n.startsWith(".note") || n === ".comment" || n.startsWith(".discard") || n === ".BTF" || n === ".BTF.ext") return "ignored";
  if (/^\.(init|exit|meminit|devinit|cpuinit)\.|^\.initcall|^\.con_initcall|^\.x86_cpu_dev\.init|^\.init_array|^\.ctors|^__setup_str|^\.init\.setup|^__param/.test(n)) return "init";
  if (n in SPECIAL_SECTIONS || n === ALT_REPLACEMENT || n === ".orc_unwind") return "special";
  if ((s.flags & SHF.EXECINSTR) !== 0n) return "text";
  if (/^\.rodata\.(str\d|cst\d)/.test(n)) return "strings";
  if ((s.flags & SHF.MERGE) !== 0n) return "strings";
  if ((s.flags & SHF.ALLOC) === 0n) return "ignored";
  if ((s.flags & SHF.WRITE) !== 0n) return "data";
  return n.startsWith(".rodata") ? "rodata" : "other";
}

/** GCC's suffixes of local names (`counter.3`, `__already_done.12`); clones keep theirs. */
export function baseName(name: string): string {
  return name.replace(/\.\d+$/, "");
}

/** `foo.cold` (or `foo.cold.3`) is a part of `foo` moved out of line, not a function of its own. */
export function coldParent(name: string): string | undefined {
  const m = /^(.+)\.cold(?:\.\d+)?$/.exec(name);
  return m?.[1];
}

const PC_RELATIVE = new Set([2, 4, 9, 24, 41, 42]); // PC32, PLT32, GOTPCREL, PC64, GOTPCRELX, REX_GOTPCRELX
/** Bytes a relocation of this type writes. */
export function relocationWidth(type: number): number {
  switch (type) {
    case 1: // R_X86_64_64
    case 24: // PC64
      return 8;
    case 0: // NONE
      return 0;
    default:
      return 4;
  }
}

/**
 * Where in its section a relocation points. A PC-relative reference's addend is biased by the
 * distance from the displacement to the end of the instruction (-4 for nearly every one).
 */
export function targetOffset(r: Rela): bigint {
  return PC_RELATIVE.has(r.type) ? r.addend + 4n : r.addend;
}

export interface ObjectIndex {
  obj: ElfObject;
  /** The named symbols (functions, objects) defined in each section, by address. */
  definedIn: Map<Section, Sym[]>;
  sectionSymbol: Map<Section, Sym>;
  byName: Map<string, Sym>;
  relaOf: Map<Section, Section>;
  /** The section each relocation applies to. */
  relaHome: Map<Rela, Section>;
  /** The FILE symbol's name (the translation unit's base name). */
  file?: string;
}

export function indexObject(obj: ElfObject): ObjectIndex {
  const definedIn = new Map<Section, Sym[]>();
  const sectionSymbol = new Map<Section, Sym>();
  const byName = new Map<string, Sym>();
  let file: string | undefined;
  for (const s of obj.symbols) {
    if (s.type === STT.FILE) file ??= s.name;
    if (s.type === STT.SECTION && s.section) sectionSymbol.set(s.section, s);
    if ((s.type === STT.FUNC || s.type === STT.OBJECT || (s.type === STT.NOTYPE && s.name !== "")) && s.section) {
      const list = definedIn.get(s.section) ?? [];
      list.push(s);
      definedIn.set(s.section, list);
    }
    if (s.name && s.type !== STT.SECTION && s.type !== STT.FILE && !byName.has(s.name)) byName.set(s.name, s);
  }
  for (const list of definedIn.values()) list.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  const relaOf = new Map<Section, Section>();
  const relaHome = new Map<Rela, Section>();
  for (const s of obj.sections) {
    if (s.type !== SHT.RELA || !s.target) continue;
    relaOf.set(s.target, s);
    for (const r of s.relas ?? []) relaHome.set(r, s.target);
  }
  return { obj, definedIn, sectionSymbol, byName, relaOf, relaHome, file };
}

/** A relocation's real target: a named symbol and the offset into it, or a place in an anonymous section. */
export type Target = { kind: "symbol"; sym: Sym; delta: bigint } | { kind: "section"; section: Section; offset: bigint };

export function resolveTarget(idx: ObjectIndex, r: Rela): Target {
  // A label GCC keeps for a constant (`.LC66` in a mergeable section) is a place, not a symbol:
  // its number differs between the pre and post objects.
  if (r.sym.type === STT.NOTYPE && r.sym.bind === STB.LOCAL && r.sym.section) {
    return { kind: "section", section: r.sym.section, offset: r.sym.value + targetOffset(r) };
  }
  if (r.sym.type !== STT.SECTION || !r.sym.section) return { kind: "symbol", sym: r.sym, delta: r.addend };
  const section = r.sym.section;
  const syms = (idx.definedIn.get(section) ?? []).filter((s) => s.type === STT.FUNC || s.type === STT.OBJECT);
  // With function and data sections a section holds one function or variable.
  if (syms.length === 1) return { kind: "symbol", sym: syms[0] as Sym, delta: r.addend - (syms[0] as Sym).value };
  const containing = (at: bigint) => syms.find((s) => s.value <= at && at < s.value + (s.size === 0n ? 1n : s.size));
  // Several (`.data.once`, `.data..read_mostly`): which one depends on the exact bias of a
  // PC-relative addend. In data (`.long x - .`) there is none; in code it runs to the end of the
  // instruction, found by decoding it. When it cannot be decoded, every possible bias (an
  // immediate of 0, 1, 2 or 4 bytes after the displacement) must name the same symbol.
  let biases = [0n];
  if (PC_RELATIVE.has(r.type)) {
    const home = idx.relaHome.get(r);
    if (!home || (home.flags & SHF.EXECINSTR) !== 0n) {
      const end = home ? instructionEndIn(idx, home, Number(r.offset)) : undefined;
      biases = end !== undefined && end - Number(r.offset) >= 4 ? [BigInt(end) - r.offset] : r.type === 2 ? [4n, 5n, 6n, 8n] : [4n];
    }
  }
  const found = new Set(biases.map((b) => containing(r.addend + b)).filter((s): s is Sym => s !== undefined));
  // Not inside any: the end of one (ORC's terminator entry after a function in a shared section,
  // `.ref.text` holding several `__ref` functions, the padding after it), as with one per section.
  if (found.size === 0) for (const b of biases) for (const s of syms) if (s.size > 0n && s.value + s.size === r.addend + b) found.add(s);
  const sym = found.size === 1 ? [...found][0] : undefined;
  if (sym) return { kind: "symbol", sym, delta: r.addend - sym.value };
  return { kind: "section", section, offset: targetOffset(r) };
}

/** The end of the instruction holding `offset` in a text section, decoded from the start of its function. */
function instructionEndIn(idx: ObjectIndex, text: Section, offset: number): number | undefined {
  const fn = (idx.definedIn.get(text) ?? []).filter((s) => s.type === STT.FUNC && s.value <= BigInt(offset) && BigInt(offset) < s.value + s.size).pop();
  return instructionEnd(text.data, fn ? Number(fn.value) : 0, offset);
}

/** The NUL-terminated string around `offset` in a string section, and where it starts. */
export function stringAt(section: Section, offset: bigint): { text: string; start: number } | undefined {
  const o = Number(offset);
  if (o < 0 || o >= section.data.length) return undefined;
  let start = o;
  while (start > 0 && section.data[start - 1] !== 0) start--;
  const end = section.data.indexOf(0, o);
  return { text: section.data.toString("latin1", start, end < 0 ? section.data.length : end), start };
}
