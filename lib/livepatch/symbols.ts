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
  /** 1-based position among the symbols of this name, in kallsyms order (what klp's sympos counts). */
  position: number;
}

export interface SymbolTable {
  /** "vmlinux" or a module's name. */
  object: string;
  lookup(name: string): KernelSymbol[];
  /** The local symbol names of one FILE group. */
  groupLocals(fileGroup: number): Set<string>;
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
  return { object, lookup: (n) => byName.get(n) ?? [], groupLocals: (g) => groups.get(g) ?? new Set() };
}
