// Where a symbol of the patched object lives in the running kernel: its livepatch `sympos`,
// computed from the release's own symbol table. A name that occurs more than once is told apart
// by the file it comes from (the FILE symbol before it) and, when several files share a base
// name, by the other local symbols of that file; never guessed.

export interface KernelSymbol {
  name: string;
  addr: bigint;
  size: number;
  /** FUNC, OBJECT, NOTYPE… */
  type: string;
  local: boolean;
  /** For local symbols: the FILE symbol's name (a base name, e.g. `cmdline.c`) and which FILE group. */
  file?: string;
  fileGroup?: number;
  /** For local symbols: the source path relative to the kernel tree, when the debug info told it. */
  path?: string;
  /**
   * For local symbols of a table without FILE symbols (a shipped module .ko): the index in its
   * symbol table, where each object file's locals are one run, in the object's own order.
   */
  order?: number;
  /** 1-based position among the symbols of this name, in kallsyms order (what klp's sympos counts). */
  position: number;
}

export interface SymbolTable {
  /** "vmlinux" or a module's name. */
  object: string;
  lookup(name: string): KernelSymbol[];
  /** The local symbol names of one FILE group. */
  groupLocals(fileGroup: number): Set<string>;
  /** Local functions and variables in symtab order, for a table without FILE symbols (a module). */
  localsInOrder?(): KernelSymbol[];
}

export class UnresolvedSymbol extends Error {
  constructor(
    message: string,
    public readonly symbol: string,
  ) {
    super(message);
    this.name = "UnresolvedSymbol";
  }
}

export interface Placement {
  symbol: KernelSymbol;
  /** 0 when the name is unique in the object (klp requires 0 then), else the 1-based position. */
  sympos: number;
}

/**
 * Finds `name` of the translation unit `file` in `table`.
 * `local`: the symbol is static in the translation unit; `unitLocals`: the unit's other local
 * function and variable names (to tell apart two files with the same base name).
 */
export function placeSymbol(opts: { table: SymbolTable; name: string; local: boolean; file?: string; unitLocals?: Iterable<string> }): Placement {
  const { table, name } = opts;
  const all = table.lookup(name);
  if (all.length === 0) throw new UnresolvedSymbol(`${name} is not in ${table.object}'s symbol table`, name);
  const sympos = (s: KernelSymbol) => (all.length === 1 ? 0 : s.position);
  if (all.length === 1) {
    // Unique, but it must still be the symbol meant: a static of the patched file that the release
    // inlined away is not another file's static, nor a global, of the same name.
    const only = all[0] as KernelSymbol;
    const otherFile = opts.local && only.local && opts.file !== undefined && only.file !== undefined && only.file !== opts.file;
    if (only.local !== opts.local || otherFile) {
      const what = only.local ? `a local symbol of ${only.file ?? "another file"}` : "a global symbol";
      const meant = opts.local ? `the static of ${opts.file ?? "the patched file"}` : "a global";
      throw new UnresolvedSymbol(`${name} occurs once in ${table.object}, as ${what}, not as ${meant}`, name);
    }
    return { symbol: only, sympos: 0 };
  }

  if (!opts.local) {
    const globals = all.filter((s) => !s.local);
    if (globals.length === 1) return { symbol: globals[0] as KernelSymbol, sympos: sympos(globals[0] as KernelSymbol) };
    throw new UnresolvedSymbol(`${name} is defined ${globals.length === 0 ? "only as a local symbol" : `${globals.length} times as a global symbol`} in ${table.object}: cannot tell which one the patch means`, name);
  }
  const locals = all.filter((s) => s.local);
  if (locals.length > 1 && locals.every((s) => s.file === undefined && s.order !== undefined)) {
    const c = betweenAnchors(table, name, locals, [...(opts.unitLocals ?? [])]);
    return { symbol: c, sympos: sympos(c) };
  }
  let candidates = all.filter((s) => s.local && (opts.file === undefined || s.file === opts.file));
  if (candidates.length > 1) {
    const locals = [...(opts.unitLocals ?? [])].filter((n) => n !== name && table.lookup(n).length > 0);
    candidates = candidates.filter((s) => s.fileGroup !== undefined && locals.every((n) => table.groupLocals(s.fileGroup as number).has(n)));
  }
  if (candidates.length === 1) return { symbol: candidates[0] as KernelSymbol, sympos: sympos(candidates[0] as KernelSymbol) };
  throw new UnresolvedSymbol(
    candidates.length === 0
      ? `${name} occurs ${all.length} times in ${table.object} but none in ${opts.file ?? "the patched file"}`
      : `${name} occurs ${candidates.length} times in files named ${opts.file ?? "like the patched file"} in ${table.object}: cannot tell which one the patch means`,
    name,
  );
}

/**
 * Which of several same-named locals of a table without FILE symbols is the patched file's: the
 * linker writes each object's local symbols as one run in the object's order, so the one meant lies
 * between two of the file's other locals that occur once in the table (anchors), and any other copy,
 * being another object's, lies outside them. The anchors must keep the compiled file's order (else
 * the shipped object is not what this compile gives); without an anchor on each side, refused.
 */
function betweenAnchors(table: SymbolTable, name: string, candidates: KernelSymbol[], unitLocals: string[]): KernelSymbol {
  const at = unitLocals.indexOf(name);
  const refuse = (why: string) => new UnresolvedSymbol(`${name} occurs ${candidates.length} times in ${table.object}, which has no FILE symbols, and ${why}: cannot tell which one the patch means`, name);
  if (at < 0) throw refuse("the patched file has no such local");
  const anchors: { unitIndex: number; order: number }[] = [];
  for (const [unitIndex, n] of unitLocals.entries()) {
    if (n === name) continue;
    const found = table.lookup(n);
    if (found.length === 1 && found[0]?.local && found[0].order !== undefined) anchors.push({ unitIndex, order: found[0].order });
  }
  for (let i = 1; i < anchors.length; i++) {
    if ((anchors[i] as { order: number }).order < (anchors[i - 1] as { order: number }).order) throw refuse("the patched file's other locals are not in its order there");
  }
  const before = anchors.filter((a) => a.unitIndex < at).at(-1);
  const after = anchors.find((a) => a.unitIndex > at);
  if (!before || !after) {
    const whole = wholeRun(table, name, candidates, unitLocals);
    if (whole) return whole;
    throw refuse(`the patched file has no local occurring once there ${before ? "after" : "before"} it, and its locals are not one run there`);
  }
  const inside = candidates.filter((s) => (s.order as number) > before.order && (s.order as number) < after.order);
  if (inside.length !== 1) throw refuse(`${inside.length} of them lie among the patched file's own locals`);
  return inside[0] as KernelSymbol;
}

/**
 * Without an anchor on each side (iwlmvm's d3.c: every local of the file occurs in other files
 * too): the one candidate at which the file's whole run of locals, in its order, is the table's.
 */
function wholeRun(table: SymbolTable, name: string, candidates: KernelSymbol[], unitLocals: string[]): KernelSymbol | null {
  const seq = table.localsInOrder?.() ?? [];
  const unit = unitLocals.filter((n) => table.lookup(n).some((k) => k.local));
  const at = unit.indexOf(name);
  if (at < 0 || unit.length < 2) return null;
  const index = new Map(seq.map((k, i) => [k, i]));
  const fits = candidates.filter((c) => {
    const start = (index.get(c) ?? -1) - at;
    return start >= 0 && start + unit.length <= seq.length && unit.every((n, k) => seq[start + k]?.name === n);
  });
  return fits.length === 1 ? (fits[0] as KernelSymbol) : null;
}

/** A SymbolTable over a list in kallsyms order (used for modules and in tests). */
export function symbolTable(object: string, symbols: Omit<KernelSymbol, "position">[]): SymbolTable {
  const byName = new Map<string, KernelSymbol[]>();
  const groups = new Map<number, Set<string>>();
  for (const s of symbols) {
    const list = byName.get(s.name) ?? [];
    const k: KernelSymbol = { ...s, position: list.length + 1 };
    list.push(k);
    byName.set(s.name, list);
    if (s.local && s.fileGroup !== undefined) {
      const g = groups.get(s.fileGroup) ?? new Set<string>();
      g.add(s.name);
      groups.set(s.fileGroup, g);
    }
  }
  const ordered: KernelSymbol[] = [];
  for (const list of byName.values()) for (const k of list) if (k.local && k.order !== undefined && (k.type === "FUNC" || k.type === "OBJECT")) ordered.push(k);
  ordered.sort((a, b) => (a.order as number) - (b.order as number));
  return { object, lookup: (n) => byName.get(n) ?? [], groupLocals: (g) => groups.get(g) ?? new Set(), localsInOrder: () => ordered };
}
