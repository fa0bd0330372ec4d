// Parsers for what binutils prints about an ELF file: `readelf -SW` (sections), `readelf -sW`
// (the symbol table), `readelf -nW` (the build id), and of its DWARF only the compile units'
// names (`--debug-dump=info --dwarf-depth=1`) and address ranges (`--debug-dump=aranges`).
// binutils does the ELF and DWARF decoding; these only read its stable text format (LC_ALL=C).
import { lineMatches } from "@/lib/text";

export interface ElfSection {
  index: number;
  name: string;
  type: string;
  address: bigint;
  offset: number;
  size: number;
  /** readelf's flag letters: A (alloc), X (exec), W (write), … */
  flags: string;
}

export interface ElfSymbol {
  /** Position in .symtab. */
  index: number;
  value: bigint;
  size: number;
  type: string;
  bind: string;
  visibility: string;
  /** Section index as a number, or UND, ABS, COM. */
  ndx: number | "UND" | "ABS" | "COM";
  name: string;
}

/** `  [Nr] Name Type Address Off Size ES Flg Lk Inf Al` rows of `readelf -SW`. */
export function parseReadelfSections(text: string): ElfSection[] {
  // The name may be empty (section 0) and never contains spaces in kernel objects.
  const re = /^\s*\[\s*(\d+)\]\s+(\S*)\s+([A-Z][A-Z_0-9]*|LOOS\+\w+|LOPROC\+\w+|<unknown>: \w+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([A-Za-z]*)\s+\d+\s+\d+\s+\d+\s*$/;
  return lineMatches(text, re).map((m) => ({
    index: Number(m[1]),
    name: m[2] as string,
    type: m[3] as string,
    address: BigInt(`0x${m[4]}`),
    offset: parseInt(m[5] as string, 16),
    size: parseInt(m[6] as string, 16),
    flags: m[7] as string,
  }));
}

/**
 * `   Num:    Value          Size Type    Bind   Vis      Ndx Name` rows of `readelf -sW` for the
 * .symtab table (not .dynsym). Sizes of 100000 and more are printed in hex with 0x.
 */
export function parseReadelfSymbols(text: string): ElfSymbol[] {
  const out: ElfSymbol[] = [];
  let inSymtab = false;
  const re = /^\s*(\d+):\s+([0-9a-f]+)\s+(0x[0-9a-f]+|\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)(?: (.*))?$/;
  for (const line of text.split("\n")) {
    const table = /^Symbol table '([^']*)'/.exec(line);
    if (table) {
      inSymtab = table[1] === ".symtab";
      continue;
    }
    if (!inSymtab) continue;
    const m = re.exec(line);
    if (!m) continue;
    const ndx = m[7] as string;
    const size = m[3] as string;
    out.push({
      index: Number(m[1]),
      value: BigInt(`0x${m[2]}`),
      size: size.startsWith("0x") ? parseInt(size.slice(2), 16) : Number(size),
      type: m[4] as string,
      bind: m[5] as string,
      visibility: m[6] as string,
      ndx: ndx === "UND" || ndx === "ABS" || ndx === "COM" ? ndx : Number(ndx),
      name: m[8] ?? "",
    });
  }
  return out;
}

/** The GNU build id (hex) from `readelf -nW`, if the file has one. */
export function parseBuildId(text: string): string | undefined {
  return /Build ID:\s*([0-9a-f]+)/.exec(text)?.[1];
}

export interface CompileUnit {
  /** Offset of the unit in .debug_info (what .debug_aranges refers to). */
  offset: number;
  name?: string;
  compDir?: string;
}

/** Compile units from `readelf --debug-dump=info --dwarf-depth=1`: their offsets and DW_AT_name / DW_AT_comp_dir. */
export function parseCompileUnits(text: string): CompileUnit[] {
  const out: CompileUnit[] = [];
  let cur: CompileUnit | undefined;
  for (const line of text.split("\n")) {
    const unit = /^\s*Compilation Unit @ offset (0x[0-9a-f]+|\d+):/.exec(line);
    if (unit) {
      cur = { offset: Number(unit[1]) };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const attr = /^\s*<[0-9a-f]+>\s+DW_AT_(name|comp_dir)\s*:\s*(?:\((?:indirect (?:line )?string|indexed string|alt indirect string)[^)]*\):\s*)?(.*)$/.exec(line);
    if (!attr) continue;
    const value = (attr[2] as string).trim();
    if (attr[1] === "name") cur.name ??= value;
    else cur.compDir ??= value;
  }
  return out;
}

export interface AddressRange {
  start: bigint;
  /** Exclusive. */
  end: bigint;
  /** The compile unit's offset in .debug_info. */
  unit: number;
}

/** Address ranges per compile unit from `readelf --debug-dump=aranges`, empty ranges dropped. */
export function parseAranges(text: string): AddressRange[] {
  const out: AddressRange[] = [];
  let unit: number | undefined;
  for (const line of text.split("\n")) {
    const head = /^\s*Offset into \.debug_info:\s*(0x[0-9a-f]+|\d+)/.exec(line);
    if (head) {
      unit = Number(head[1]);
      continue;
    }
    const r = /^\s*([0-9a-f]{8,16})\s+([0-9a-f]{8,16})\s*$/.exec(line);
    if (!r || unit === undefined) continue;
    const start = BigInt(`0x${r[1]}`);
    const length = BigInt(`0x${r[2]}`);
    if (length === 0n) continue;
    out.push({ start, end: start + length, unit });
  }
  return out;
}
