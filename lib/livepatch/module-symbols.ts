// A module's symbols as the kernel's livepatch core counts them: the module's own symbol table
// (kallsyms of a module is its symtab's "core" symbols, in symtab order), with each local symbol's
// FILE symbol (or, where the .ko has none, its symtab index), so that placeSymbol can compute
// sympos for a module as it does for vmlinux.
import { SHF, STB, STT, type ElfObject, type Sym } from "./elf";
import { sectionKind } from "./kernel-object";
import { symbolTable, type KernelSymbol, type SymbolTable } from "./symbols";

const TYPE_NAMES: Record<number, string> = { [STT.NOTYPE]: "NOTYPE", [STT.OBJECT]: "OBJECT", [STT.FUNC]: "FUNC" };

/** kernel/module/kallsyms.c is_core_symbol: named, defined in an allocated section that stays after init. */
function isCoreSymbol(s: Sym): boolean {
  if (!s.name || !s.section || s.type === STT.SECTION || s.type === STT.FILE) return false;
  if ((s.section.flags & SHF.ALLOC) === 0n) return false;
  return sectionKind(s.section) !== "init";
}

/** `obj`: the module's .ko as read by readElf (read once, shared with moduleGlobals and ModuleCode). */
export function moduleSymbolTable(name: string, obj: ElfObject): SymbolTable {
  const list: Omit<KernelSymbol, "position">[] = [];
  let file: string | undefined;
  let group = -1;
  // Debian's shipped modules have no FILE symbols: placeSymbol tells same-named locals apart by
  // their order instead.
  const noFiles = !obj.symbols.some((s) => s.type === STT.FILE);
  for (const [index, s] of obj.symbols.entries()) {
    if (s.type === STT.FILE) {
      file = s.name;
      group++;
      continue;
    }
    if (!isCoreSymbol(s)) continue;
    const local = s.bind === STB.LOCAL;
    list.push({
      name: s.name,
      addr: s.value,
      size: Number(s.size),
      type: TYPE_NAMES[s.type] ?? String(s.type),
      local,
      ...(local && file !== undefined ? { file, fileGroup: group } : {}),
      ...(local && noFiles ? { order: index } : {}),
    });
  }
  return symbolTable(name, list);
}

/** Names a module defines as global symbols (for references from other files of the same module). */
export function moduleGlobals(obj: ElfObject): Set<string> {
  return new Set(obj.symbols.filter((s) => s.section && s.bind !== STB.LOCAL && s.name).map((s) => s.name));
}
