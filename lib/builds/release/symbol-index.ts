// The symbol index of a kernel release (or of one module): every symbol of the ELF symbol table
// with its address, size, type, binding and section; for local symbols, the source file they come
// from; and livepatch's `sympos` for it. Built once from the unstripped vmlinux (whose 632 MB are
// then deleted), stored as one JSON file, loaded by the builder.
//
// Which file a local symbol comes from: the linker keeps each object's FILE symbol followed by
// that object's local symbols. FILE symbols hold only a base name ("core.c" occurs 30 times), so
// where DWARF is at hand each FILE group also gets its source path, from the compile unit whose
// address ranges hold the group's functions.
import { kallsymsOrder, symposByEntry, type MapEntry } from "./kallsyms";
import type { AddressRange, CompileUnit, ElfSection, ElfSymbol } from "./readelf";

export const SYMBOL_INDEX_FORMAT = "splicer-symbol-index/1";

export interface KernelSymbol {
  name: string;
  address: bigint;
  size: number;
  /** readelf's type: FUNC, OBJECT, NOTYPE, TLS, … */
  type: string;
  /** LOCAL, GLOBAL, WEAK. */
  bind: string;
  /** Name of the section it is defined in; UND, ABS or COM otherwise. */
  section: string;
  /** Position in the ELF symbol table. */
  index: number;
  /** The source file of a LOCAL symbol (an index into `files`); undefined for global ones. */
  file?: number;
  /**
   * livepatch's sympos: 0 when the name occurs once in the kernel's symbol table (kallsyms),
   * otherwise the 1-based position among the symbols of that name. Undefined when kallsyms does
   * not list the symbol at all (livepatch cannot reach it by name).
   */
  sympos?: number;
}

export interface SourceFile {
  id: number;
  /** The FILE symbol: a base name, e.g. "core.c" (".o" for some assembler files). */
  name: string;
  /** Source path relative to the kernel tree, e.g. "kernel/sched/core.c", when DWARF told it. */
  path?: string;
}

export interface SymbolIndexData {
  format: typeof SYMBOL_INDEX_FORMAT;
  /** vmlinux, or the module's name. */
  object: string;
  buildId?: string;
  /** How sympos was computed: from the kernel's kallsyms order (vmlinux) or the module's symtab order. */
  order: "kallsyms" | "module-symtab";
  files: SourceFile[];
  symbols: KernelSymbol[];
}

export interface BuildIndexInput {
  object: string;
  buildId?: string;
  sections: ElfSection[];
  symbols: ElfSymbol[];
  /**
   * vmlinux: its System.map entries (R's own, or `nm -n` through scripts/mksysmap). Without it the
   * order is the module one: symtab order, defined symbols of allocated sections.
   */
  systemMap?: MapEntry[];
  dwarf?: { units: CompileUnit[]; ranges: AddressRange[]; relativize: (unit: CompileUnit) => string | undefined };
}

export interface BuildIndexResult {
  data: SymbolIndexData;
  stats: {
    symbols: number;
    files: number;
    filesWithPath: number;
    /** Symbols of the symbol table that kallsyms does not list. */
    notInKallsyms: number;
    /** System.map entries kallsyms keeps but the symbol table does not have (should be 0). */
    unmatchedMapEntries: number;
    duplicatedNames: number;
  };
}

/** Builds the index from what readelf and System.map say. Pure. */
export function buildSymbolIndex(input: BuildIndexInput): BuildIndexResult {
  const sectionName = new Map(input.sections.map((s) => [s.index, s.name]));
  const allocated = new Set(input.sections.filter((s) => s.flags.includes("A")).map((s) => s.index));
  const files: SourceFile[] = [];
  const symbols: KernelSymbol[] = [];
  const inAllocatedSection = new Set<KernelSymbol>();
  let file: number | undefined;
  for (const s of input.symbols) {
    if (s.index === 0) continue;
    if (s.type === "FILE") {
      file = files.length;
      files.push({ id: file, name: s.name });
      continue;
    }
    if (s.type === "SECTION" || s.name === "") continue;
    // Local symbols come first in the table, each object's after its FILE symbol.
    if (s.bind !== "LOCAL") file = undefined;
    const sym: KernelSymbol = {
      name: s.name,
      address: s.value,
      size: s.size,
      type: s.type,
      bind: s.bind,
      section: typeof s.ndx === "number" ? (sectionName.get(s.ndx) ?? `#${s.ndx}`) : s.ndx,
      index: s.index,
      ...(s.bind === "LOCAL" && file !== undefined ? { file } : {}),
    };
    symbols.push(sym);
    if (typeof s.ndx === "number" && allocated.has(s.ndx)) inAllocatedSection.add(sym);
  }

  let notInKallsyms = 0;
  let unmatchedMapEntries = 0;
  if (input.systemMap) {
    const ordered = kallsymsOrder(input.systemMap);
    const positions = symposByEntry(ordered);
    // Symbols of the table by (name, address), in table order, to take the map's entries in turn.
    const byKey = new Map<string, KernelSymbol[]>();
    for (const sym of symbols) {
      const key = `${sym.name}\0${sym.address}`;
      const list = byKey.get(key);
      if (list) list.push(sym);
      else byKey.set(key, [sym]);
    }
    ordered.forEach((e, i) => {
      const list = byKey.get(`${e.name}\0${e.address}`);
      const sym = list?.find((s) => s.sympos === undefined);
      if (!sym) {
        unmatchedMapEntries++;
        return;
      }
      sym.sympos = positions[i] as number;
    });
  } else {
    // Module: kallsyms walks the module's own symbol table in order, skipping undefined symbols;
    // once the module's init is done, only symbols of allocated sections stay.
    const listed = symbols.filter((s) => inAllocatedSection.has(s));
    const positions = symposByEntry(listed.map((s) => ({ address: s.address, letter: "t", name: s.name })));
    listed.forEach((s, i) => (s.sympos = positions[i] as number));
  }
  for (const s of symbols) if (s.sympos === undefined) notInKallsyms++;

  if (input.dwarf) attachPaths(files, symbols, input.dwarf);

  const names = new Map<string, number>();
  for (const s of symbols) if (s.sympos !== undefined) names.set(s.name, (names.get(s.name) ?? 0) + 1);
  return {
    data: {
      format: SYMBOL_INDEX_FORMAT,
      object: input.object,
      ...(input.buildId ? { buildId: input.buildId } : {}),
      order: input.systemMap ? "kallsyms" : "module-symtab",
      files,
      symbols,
    },
    stats: {
      symbols: symbols.length,
      files: files.length,
      filesWithPath: files.filter((f) => f.path !== undefined).length,
      notInKallsyms,
      unmatchedMapEntries,
      duplicatedNames: [...names.values()].filter((n) => n > 1).length,
    },
  };
}

/**
 * Gives FILE groups the path of their compile unit. Groups with local functions are placed by
 * address (the unit whose ranges hold all of them); they are anchors. Groups without (only static
 * data) are placed by order: the linker writes FILE groups and compile units in the same link
 * order, so between two anchors the remaining groups pair with the remaining units of the same base
 * name, in order, when the counts agree. Anything else gets no path: better none than a wrong one.
 */
function attachPaths(files: SourceFile[], symbols: KernelSymbol[], dwarf: NonNullable<BuildIndexInput["dwarf"]>): void {
  const units = [...dwarf.units].sort((a, b) => a.offset - b.offset);
  const unitIndex = new Map(units.map((u, i) => [u.offset, i]));
  const paths = units.map((u) => dwarf.relativize(u));
  const ranges = [...dwarf.ranges].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const unitAt = (address: bigint): number | undefined => {
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = ranges[mid] as AddressRange;
      if (address < r.start) hi = mid - 1;
      else if (address >= r.end) lo = mid + 1;
      else return unitIndex.get(r.unit);
    }
    return undefined;
  };
  const votes = new Map<number, Set<number | undefined>>();
  for (const s of symbols) {
    if (s.file === undefined || s.type !== "FUNC" || s.size === 0) continue;
    let set = votes.get(s.file);
    if (!set) votes.set(s.file, (set = new Set()));
    set.add(unitAt(s.address));
  }
  // Placed by address: group → unit. Anchors for the ordering are the longest run of them that
  // increases in both (the linker script pulls a few early objects, head_64.o, sev.c, forward).
  const unitOf = new Map<number, number>();
  const placed: Array<{ file: number; unit: number }> = [];
  for (const f of files) {
    const set = votes.get(f.id);
    if (set?.size !== 1) continue;
    const u = [...set][0];
    if (u === undefined || !sameFile(f.name, paths[u])) continue;
    unitOf.set(f.id, u);
    placed.push({ file: f.id, unit: u });
  }
  const anchors = new Set(longestIncreasing(placed.map((p) => p.unit)).map((i) => (placed[i] as { file: number }).file));
  const claimed = new Set(unitOf.values());
  // Between anchors, pair by base name where it is unambiguous.
  let prevUnit = -1;
  let pending: SourceFile[] = [];
  const settle = (nextUnit: number) => {
    const keys = new Map<string, { groups: SourceFile[]; units: number[] }>();
    const slot = (k: string) => keys.get(k) ?? keys.set(k, { groups: [], units: [] }).get(k)!;
    for (const f of pending) if (!votes.has(f.id)) slot(stem(f.name)).groups.push(f);
    for (let u = prevUnit + 1; u < nextUnit; u++) {
      const p = paths[u];
      if (p && !claimed.has(u)) slot(stem(baseName(p))).units.push(u);
    }
    for (const { groups, units: us } of keys.values()) {
      if (groups.length === 0 || groups.length !== us.length) continue;
      groups.forEach((f, i) => unitOf.set(f.id, us[i] as number));
    }
    pending = [];
  };
  for (const f of files) {
    if (!anchors.has(f.id)) {
      pending.push(f);
      continue;
    }
    const u = unitOf.get(f.id) as number;
    settle(u);
    prevUnit = u;
  }
  settle(units.length);
  for (const f of files) {
    const u = unitOf.get(f.id);
    const p = u === undefined ? undefined : paths[u];
    if (p && sameFile(f.name, p)) f.path = p;
  }
}

/** Indexes of a longest strictly increasing subsequence of `xs` (patience sorting). */
export function longestIncreasing(xs: number[]): number[] {
  const tails: number[] = [];
  const prev: number[] = new Array<number>(xs.length).fill(-1);
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i] as number;
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((xs[tails[mid] as number] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[i] = tails[lo - 1] as number;
    tails[lo] = i;
  }
  const out: number[] = [];
  for (let i = tails.length ? (tails[tails.length - 1] as number) : -1; i >= 0; i = prev[i] as number) out.push(i);
  return out.reverse();
}

/** A FILE symbol names the source file ("mballoc.c") or, for some assembler files, the object ("head_64.o"). */
function sameFile(fileSymbol: string, unitPath: string | undefined): boolean {
  if (!unitPath) return false;
  const base = baseName(unitPath);
  return base === fileSymbol || stem(base) === stem(fileSymbol);
}

function stem(name: string): string {
  return name.replace(/\.[A-Za-z]$/, "");
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

// --- storage ---------------------------------------------------------------------------------

interface StoredIndex {
  format: typeof SYMBOL_INDEX_FORMAT;
  object: string;
  buildId?: string;
  order: SymbolIndexData["order"];
  sections: string[];
  files: Array<[string, string | null]>;
  /** [name, address hex, size, type, bind, section index, file or -1, sympos or -1, symtab index] */
  symbols: Array<[string, string, number, string, string, number, number, number, number]>;
}

/** The index as compact JSON (sections interned, addresses as hex). */
export function serializeSymbolIndex(data: SymbolIndexData): string {
  const sections: string[] = [];
  const sectionId = new Map<string, number>();
  const sec = (name: string) => {
    let id = sectionId.get(name);
    if (id === undefined) {
      id = sections.length;
      sections.push(name);
      sectionId.set(name, id);
    }
    return id;
  };
  const stored: StoredIndex = {
    format: data.format,
    object: data.object,
    ...(data.buildId ? { buildId: data.buildId } : {}),
    order: data.order,
    sections,
    files: data.files.map((f) => [f.name, f.path ?? null]),
    symbols: data.symbols.map((s) => [s.name, s.address.toString(16), s.size, s.type, s.bind, sec(s.section), s.file ?? -1, s.sympos ?? -1, s.index]),
  };
  return JSON.stringify(stored);
}

export function parseSymbolIndex(text: string): SymbolIndex {
  const stored = JSON.parse(text) as StoredIndex;
  if (stored.format !== SYMBOL_INDEX_FORMAT) throw new Error(`not a symbol index of format ${SYMBOL_INDEX_FORMAT}: ${String(stored.format)}`);
  const files: SourceFile[] = stored.files.map(([name, p], id) => ({ id, name, ...(p !== null ? { path: p } : {}) }));
  const symbols: KernelSymbol[] = stored.symbols.map(([name, addr, size, type, bind, section, file, sympos, index]) => ({
    name,
    address: BigInt(`0x${addr}`),
    size,
    type,
    bind,
    section: stored.sections[section] as string,
    index,
    ...(file >= 0 ? { file } : {}),
    ...(sympos >= 0 ? { sympos } : {}),
  }));
  return new SymbolIndex({ format: stored.format, object: stored.object, ...(stored.buildId ? { buildId: stored.buildId } : {}), order: stored.order, files, symbols });
}

// --- lookups ---------------------------------------------------------------------------------

export type SymbolLookup =
  | { kind: "found"; symbol: KernelSymbol }
  /** No symbol of that name (and file) that livepatch can resolve. */
  | { kind: "missing"; unlisted: KernelSymbol[] }
  /** More than one symbol fits: never guess. */
  | { kind: "ambiguous"; candidates: KernelSymbol[] };

export interface SymbolWhere {
  /**
   * The caller's symbol is LOCAL to this source file (tree-relative, e.g. "fs/nfsd/nfs4state.c"):
   * only a local symbol of that file fits. Without it only global (and weak) symbols fit.
   */
  path?: string;
  /** Only symbols of this type (FUNC for functions, OBJECT for variables). */
  type?: string;
}

export class SymbolIndex {
  readonly object: string;
  readonly buildId: string | undefined;
  readonly order: SymbolIndexData["order"];
  readonly files: readonly SourceFile[];
  readonly symbols: readonly KernelSymbol[];
  private readonly names = new Map<string, KernelSymbol[]>();
  private sortedByAddress: KernelSymbol[] | undefined;

  constructor(data: SymbolIndexData) {
    this.object = data.object;
    this.buildId = data.buildId;
    this.order = data.order;
    this.files = data.files;
    this.symbols = data.symbols;
    for (const s of data.symbols) {
      const list = this.names.get(s.name);
      if (list) list.push(s);
      else this.names.set(s.name, [s]);
    }
  }

  /** Every symbol of that name, in symbol-table order. */
  byName(name: string): readonly KernelSymbol[] {
    return this.names.get(name) ?? [];
  }

  fileOf(symbol: KernelSymbol): SourceFile | undefined {
    return symbol.file === undefined ? undefined : this.files[symbol.file];
  }

  /**
   * The one symbol of that name the kernel can resolve for a reference from `where`: a global one,
   * or a local one of the file `where.path`. A file is matched by its DWARF path; only when no FILE
   * group of the index has that path (DWARF did not tell) by its base name.
   */
  lookup(name: string, where: SymbolWhere = {}): SymbolLookup {
    const all = this.byName(name).filter((s) => !where.type || s.type === where.type);
    let fitting: KernelSymbol[];
    if (where.path === undefined) {
      fitting = all.filter((s) => s.bind !== "LOCAL");
    } else {
      const wanted = where.path;
      const locals = all.filter((s) => s.bind === "LOCAL");
      if (this.files.some((f) => f.path === wanted)) {
        fitting = locals.filter((s) => this.fileOf(s)?.path === wanted);
      } else {
        const base = baseName(wanted);
        const asObject = base.replace(/\.[cS]$/, ".o");
        fitting = locals.filter((s) => {
          const f = this.fileOf(s);
          return f !== undefined && f.path === undefined && (f.name === base || f.name === asObject);
        });
      }
    }
    const listed = fitting.filter((s) => s.sympos !== undefined);
    if (listed.length === 1) return { kind: "found", symbol: listed[0] as KernelSymbol };
    if (listed.length === 0) return { kind: "missing", unlisted: fitting };
    return { kind: "ambiguous", candidates: listed };
  }

  /** Symbols of one FILE group, in symbol-table order. */
  symbolsOfFile(file: number): KernelSymbol[] {
    return this.symbols.filter((s) => s.file === file);
  }

  /** The function or object whose [address, address + size) holds `address`. */
  containing(address: bigint): KernelSymbol | undefined {
    const sorted = (this.sortedByAddress ??= this.symbols
      .filter((s) => s.size > 0 && (s.type === "FUNC" || s.type === "OBJECT") && s.section !== "ABS")
      .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0)));
    let lo = 0;
    let hi = sorted.length - 1;
    let best: KernelSymbol | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = sorted[mid] as KernelSymbol;
      if (s.address <= address) {
        best = s;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best && address < best.address + BigInt(best.size) ? best : undefined;
  }
}
