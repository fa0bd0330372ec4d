// A read/write model of 64-bit little-endian ELF relocatable objects (x86_64 `.o` and `.ko`
// files), and a reader of the section table of executables (vmlinux).
//
// Written by hand: binutils can show these files but cannot make what a livepatch module needs
// (relocation sections flagged SHF_RELA_LIVEPATCH, symbols in SHN_LIVEPATCH), and the npm ELF
// packages are readers or tied to other formats. The model holds references, not indices:
// a relocation points at its symbol, a symbol at its section, so that sections and symbols can be
// added, dropped and reordered and `writeElf` assigns every index afresh.

export const SHT = { NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, RELA: 4, NOBITS: 8, REL: 9, GROUP: 17, SYMTAB_SHNDX: 18 } as const;
export const SHF = { WRITE: 0x1n, ALLOC: 0x2n, EXECINSTR: 0x4n, MERGE: 0x10n, STRINGS: 0x20n, INFO_LINK: 0x40n, RELA_LIVEPATCH: 0x00100000n } as const;
export const STT = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4 } as const;
export const STB = { LOCAL: 0, GLOBAL: 1, WEAK: 2 } as const;
export const SHN = { UNDEF: 0, LIVEPATCH: 0xff20, ABS: 0xfff1, COMMON: 0xfff2, XINDEX: 0xffff } as const;
export const ET = { REL: 1, EXEC: 2, DYN: 3 } as const;
export const EM_X86_64 = 62;

export class ElfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ElfError";
  }
}

export interface Section {
  name: string;
  type: number;
  flags: bigint;
  addr: bigint;
  addralign: number;
  entsize: number;
  /** Contents; for NOBITS an empty buffer and `size` holds the size. */
  data: Buffer;
  size: number;
  /** SHT_RELA: the section the relocations apply to. */
  target?: Section;
  relas?: Rela[];
  /** Index in the file it was read from (0 for new sections); reassigned by writeElf. */
  index: number;
  /** sh_link of a non-relocation section (SHF_LINK_ORDER sections name their text section). */
  linked?: Section;
  /** sh_info of sections this model does not interpret (kept as read). */
  rawInfo?: number;
}

export interface Sym {
  name: string;
  value: bigint;
  size: bigint;
  type: number;
  bind: number;
  other: number;
  /** The defining section, or undefined with `shndx` UNDEF/ABS/COMMON/LIVEPATCH. */
  section?: Section;
  shndx: number;
  /** Index in the file it was read from; reassigned by writeElf. */
  index: number;
}

export interface Rela {
  offset: bigint;
  type: number;
  sym: Sym;
  addend: bigint;
}

export interface ElfObject {
  type: number;
  machine: number;
  flags: number;
  osabi: number;
  /** Every section but the null one, in file order. The symbol and string tables are rebuilt on write. */
  sections: Section[];
  /** Every symbol but the null one, in file order. */
  symbols: Sym[];
}

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const RELA_SIZE = 24;

function cstring(buf: Buffer, offset: number): string {
  const end = buf.indexOf(0, offset);
  return buf.toString("latin1", offset, end < 0 ? buf.length : end);
}

interface RawShdr {
  name: number;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

function header(buf: Buffer): { type: number; machine: number; flags: number; osabi: number; shoff: number; shnum: number; shstrndx: number } {
  if (buf.length < EHDR_SIZE || buf.readUInt32BE(0) !== 0x7f454c46) throw new ElfError("not an ELF file");
  if (buf[4] !== 2 || buf[5] !== 1) throw new ElfError("not a 64-bit little-endian ELF file");
  let shnum = buf.readUInt16LE(60);
  let shstrndx = buf.readUInt16LE(62);
  const shoff = Number(buf.readBigUInt64LE(40));
  if (shoff + SHDR_SIZE > buf.length) throw new ElfError("section header table is outside the file");
  // More than 0xff00 sections: the real counts live in section 0.
  if (shnum === 0) shnum = Number(buf.readBigUInt64LE(shoff + 32));
  if (shstrndx === SHN.XINDEX) shstrndx = buf.readUInt32LE(shoff + 40);
  if (shoff + shnum * SHDR_SIZE > buf.length) throw new ElfError("section header table is outside the file");
  return { type: buf.readUInt16LE(16), machine: buf.readUInt16LE(18), flags: buf.readUInt32LE(48), osabi: buf[7] as number, shoff, shnum, shstrndx };
}

function rawShdrs(buf: Buffer, shoff: number, shnum: number): RawShdr[] {
  const out: RawShdr[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * SHDR_SIZE;
    out.push({
      name: buf.readUInt32LE(o),
      type: buf.readUInt32LE(o + 4),
      flags: buf.readBigUInt64LE(o + 8),
      addr: buf.readBigUInt64LE(o + 16),
      offset: Number(buf.readBigUInt64LE(o + 24)),
      size: Number(buf.readBigUInt64LE(o + 32)),
      link: buf.readUInt32LE(o + 40),
      info: buf.readUInt32LE(o + 44),
      addralign: Number(buf.readBigUInt64LE(o + 48)),
      entsize: Number(buf.readBigUInt64LE(o + 56)),
    });
  }
  return out;
}

/** The section table of any ELF file (an executable too): names, addresses, file offsets. */
export function readSectionTable(buf: Buffer): { name: string; type: number; flags: bigint; addr: bigint; offset: number; size: number }[] {
  const h = header(buf);
  const raw = rawShdrs(buf, h.shoff, h.shnum);
  const strtab = raw[h.shstrndx];
  if (!strtab) throw new ElfError("no section name table");
  return raw.map((s) => ({ name: cstring(buf, strtab.offset + s.name), type: s.type, flags: s.flags, addr: s.addr, offset: s.offset, size: s.size }));
}

/** Reads a relocatable object into the model. */
export function readElf(buf: Buffer): ElfObject {
  const h = header(buf);
  const raw = rawShdrs(buf, h.shoff, h.shnum);
  const shstr = raw[h.shstrndx];
  if (!shstr) throw new ElfError("no section name table");
  const sections: Section[] = raw.map((s, index) => {
    if (s.type !== SHT.NOBITS && s.offset + s.size > buf.length) throw new ElfError(`section ${index} is outside the file`);
    return {
      name: cstring(buf, shstr.offset + s.name),
      type: s.type,
      flags: s.flags,
      addr: s.addr,
      addralign: s.addralign,
      entsize: s.entsize,
      data: s.type === SHT.NOBITS ? Buffer.alloc(0) : Buffer.from(buf.subarray(s.offset, s.offset + s.size)),
      size: s.size,
      index,
      rawInfo: s.info,
    };
  });
  raw.forEach((s, i) => {
    const sec = sections[i] as Section;
    if (s.link > 0 && s.type !== SHT.RELA && s.type !== SHT.SYMTAB) sec.linked = sections[s.link];
  });
  if (sections.some((s) => s.type === SHT.GROUP)) throw new ElfError("section groups (COMDAT) are not supported");
  if (sections.some((s) => s.type === SHT.REL)) throw new ElfError("REL relocations are not supported (x86_64 uses RELA)");

  const symtabIdx = raw.findIndex((s) => s.type === SHT.SYMTAB);
  const symbols: Sym[] = [];
  const shndxTable = raw.findIndex((s) => s.type === SHT.SYMTAB_SHNDX);
  if (symtabIdx >= 0) {
    const st = raw[symtabIdx] as RawShdr;
    const strtab = raw[st.link];
    if (!strtab) throw new ElfError("symbol table without a string table");
    const count = st.size / SYM_SIZE;
    for (let i = 1; i < count; i++) {
      const o = st.offset + i * SYM_SIZE;
      const info = buf[o + 4] as number;
      let shndx = buf.readUInt16LE(o + 6);
      if (shndx === SHN.XINDEX && shndxTable >= 0) shndx = buf.readUInt32LE((raw[shndxTable] as RawShdr).offset + i * 4);
      const special = shndx === SHN.UNDEF || shndx >= 0xff00;
      const section = special ? undefined : sections[shndx];
      if (!special && !section) throw new ElfError(`symbol ${i} is in section ${shndx}, which does not exist`);
      symbols.push({
        name: cstring(buf, strtab.offset + buf.readUInt32LE(o)),
        type: info & 0xf,
        bind: info >> 4,
        other: buf[o + 5] as number,
        shndx: special ? shndx : 0,
        section,
        value: buf.readBigUInt64LE(o + 8),
        size: buf.readBigUInt64LE(o + 16),
        index: i,
      });
    }
  }
  for (const s of sections) {
    if (s.type !== SHT.RELA) continue;
    const target = sections[s.rawInfo ?? 0];
    if (!target || s.rawInfo === 0) throw new ElfError(`relocation section ${s.name} applies to no section`);
    s.target = target;
    s.relas = [];
    for (let o = 0; o < s.data.length; o += RELA_SIZE) {
      const info = s.data.readBigUInt64LE(o + 8);
      const symIdx = Number(info >> 32n);
      const sym = symbols[symIdx - 1];
      if (!sym) throw new ElfError(`relocation in ${s.name} names symbol ${symIdx}, which does not exist`);
      s.relas.push({ offset: s.data.readBigUInt64LE(o), type: Number(info & 0xffffffffn), sym, addend: s.data.readBigInt64LE(o + 16) });
    }
  }
  return {
    type: h.type,
    machine: h.machine,
    flags: h.flags,
    osabi: h.osabi,
    sections: sections.slice(1).filter((s) => s.type !== SHT.SYMTAB && s.type !== SHT.SYMTAB_SHNDX && !(s.type === SHT.STRTAB && (s.index === h.shstrndx || s.index === raw[symtabIdx]?.link))),
    symbols,
  };
}

class StringTable {
  private readonly parts: Buffer[] = [Buffer.from([0])];
  private size = 1;
  private readonly seen = new Map<string, number>();
  add(s: string): number {
    if (s === "") return 0;
    const known = this.seen.get(s);
    if (known !== undefined) return known;
    const at = this.size;
    const b = Buffer.from(`${s}\0`, "latin1");
    this.parts.push(b);
    this.size += b.length;
    this.seen.set(s, at);
    return at;
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const align = (n: number, a: number) => (a > 1 ? Math.ceil(n / a) * a : n);

/**
 * Serialises the model: sections in order, then .symtab, .strtab and .shstrtab built from
 * `symbols` (locals first, as ELF requires). Relocations are written from `relas`; every symbol
 * a relocation names must be in `symbols`, every section a symbol names must be in `sections`.
 */
export function writeElf(obj: ElfObject): Buffer {
  const sections = obj.sections;
  sections.forEach((s, i) => (s.index = i + 1));
  const symtabIndex = sections.length + 1;
  const strtabIndex = symtabIndex + 1;
  const shstrtabIndex = strtabIndex + 1;
  const inModel = new Set(sections);

  const locals = obj.symbols.filter((s) => s.bind === STB.LOCAL);
  const globals = obj.symbols.filter((s) => s.bind !== STB.LOCAL);
  const ordered = [...locals, ...globals];
  ordered.forEach((s, i) => (s.index = i + 1));
  const strtab = new StringTable();
  const symData = Buffer.alloc((ordered.length + 1) * SYM_SIZE);
  for (const s of ordered) {
    const o = s.index * SYM_SIZE;
    let shndx = s.shndx;
    if (s.section) {
      if (!inModel.has(s.section)) throw new ElfError(`symbol ${s.name} is in section ${s.section.name}, which is not in the object`);
      shndx = s.section.index;
    }
    if (shndx >= 0xff00 && s.section) throw new ElfError("too many sections");
    symData.writeUInt32LE(strtab.add(s.name), o);
    symData[o + 4] = (s.bind << 4) | (s.type & 0xf);
    symData[o + 5] = s.other;
    symData.writeUInt16LE(shndx, o + 6);
    symData.writeBigUInt64LE(s.value, o + 8);
    symData.writeBigUInt64LE(s.size, o + 16);
  }
  const known = new Set(ordered);
  for (const s of sections) {
    if (s.linked && !inModel.has(s.linked)) throw new ElfError(`section ${s.name} is linked to ${s.linked.name}, which is not in the object`);
    if (s.type !== SHT.RELA) continue;
    if (!s.target || !inModel.has(s.target)) throw new ElfError(`relocation section ${s.name} applies to a section not in the object`);
    const relas = s.relas ?? [];
    const data = Buffer.alloc(relas.length * RELA_SIZE);
    relas.forEach((r, i) => {
      if (!known.has(r.sym)) throw new ElfError(`a relocation in ${s.name} names ${r.sym.name || "a symbol"}, which is not in the symbol table`);
      data.writeBigUInt64LE(r.offset, i * RELA_SIZE);
      data.writeBigUInt64LE((BigInt(r.sym.index) << 32n) | BigInt(r.type), i * RELA_SIZE + 8);
      data.writeBigInt64LE(r.addend, i * RELA_SIZE + 16);
    });
    s.data = data;
    s.size = data.length;
    s.entsize = RELA_SIZE;
    s.addralign = 8;
  }
  const strData = strtab.bytes();

  const shstr = new StringTable();
  const names = [...sections.map((s) => shstr.add(s.name)), shstr.add(".symtab"), shstr.add(".strtab"), shstr.add(".shstrtab")];
  const shstrData = shstr.bytes();

  // Layout: header, section contents, section headers.
  const chunks: { offset: number; data: Buffer }[] = [];
  let offset = EHDR_SIZE;
  const offsets: number[] = [];
  const place = (data: Buffer, alignment: number, nobits: boolean) => {
    offset = align(offset, Math.max(1, alignment));
    offsets.push(offset);
    if (!nobits) {
      chunks.push({ offset, data });
      offset += data.length;
    }
  };
  for (const s of sections) place(s.data, s.addralign, s.type === SHT.NOBITS);
  place(symData, 8, false);
  place(strData, 1, false);
  place(shstrData, 1, false);
  const shoff = align(offset, 8);
  const shnum = sections.length + 4;
  const out = Buffer.alloc(shoff + shnum * SHDR_SIZE);
  for (const c of chunks) c.data.copy(out, c.offset);

  out.writeUInt32BE(0x7f454c46, 0);
  out[4] = 2; // ELFCLASS64
  out[5] = 1; // little endian
  out[6] = 1; // EV_CURRENT
  out[7] = obj.osabi;
  out.writeUInt16LE(obj.type, 16);
  out.writeUInt16LE(obj.machine, 18);
  out.writeUInt32LE(1, 20);
  out.writeBigUInt64LE(BigInt(shoff), 40);
  out.writeUInt32LE(obj.flags, 48);
  out.writeUInt16LE(EHDR_SIZE, 52);
  out.writeUInt16LE(SHDR_SIZE, 58);
  out.writeUInt16LE(shnum, 60);
  out.writeUInt16LE(shstrtabIndex, 62);

  const shdr = (i: number, f: { name: number; type: number; flags: bigint; addr: bigint; offset: number; size: number; link: number; info: number; addralign: number; entsize: number }) => {
    const o = shoff + i * SHDR_SIZE;
    out.writeUInt32LE(f.name, o);
    out.writeUInt32LE(f.type, o + 4);
    out.writeBigUInt64LE(f.flags, o + 8);
    out.writeBigUInt64LE(f.addr, o + 16);
    out.writeBigUInt64LE(BigInt(f.offset), o + 24);
    out.writeBigUInt64LE(BigInt(f.size), o + 32);
    out.writeUInt32LE(f.link, o + 40);
    out.writeUInt32LE(f.info, o + 44);
    out.writeBigUInt64LE(BigInt(f.addralign), o + 48);
    out.writeBigUInt64LE(BigInt(f.entsize), o + 56);
  };
  sections.forEach((s, i) => {
    const rela = s.type === SHT.RELA;
    shdr(i + 1, {
      name: names[i] as number,
      type: s.type,
      flags: s.flags,
      addr: s.addr,
      offset: offsets[i] as number,
      size: s.type === SHT.NOBITS ? s.size : s.data.length,
      link: rela ? symtabIndex : (s.linked?.index ?? 0),
      info: rela ? (s.target as Section).index : (s.rawInfo ?? 0),
      addralign: s.addralign,
      entsize: s.entsize,
    });
  });
  const n = sections.length;
  shdr(symtabIndex, { name: names[n] as number, type: SHT.SYMTAB, flags: 0n, addr: 0n, offset: offsets[n] as number, size: symData.length, link: strtabIndex, info: locals.length + 1, addralign: 8, entsize: SYM_SIZE });
  shdr(strtabIndex, { name: names[n + 1] as number, type: SHT.STRTAB, flags: 0n, addr: 0n, offset: offsets[n + 1] as number, size: strData.length, link: 0, info: 0, addralign: 1, entsize: 0 });
  shdr(shstrtabIndex, { name: names[n + 2] as number, type: SHT.STRTAB, flags: 0n, addr: 0n, offset: offsets[n + 2] as number, size: shstrData.length, link: 0, info: 0, addralign: 1, entsize: 0 });
  return out;
}

/** Bytes of a section (zeros for NOBITS). */
export function sectionBytes(s: Section): Buffer {
  return s.type === SHT.NOBITS ? Buffer.alloc(s.size) : s.data;
}

/** The relocation section that applies to `s`, if any. */
export function relaSectionOf(obj: ElfObject, s: Section): Section | undefined {
  return obj.sections.find((r) => r.type === SHT.RELA && r.target === s);
}
