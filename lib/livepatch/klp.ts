// The last step of a livepatch module: after kbuild has linked it, every relocation against a
// livepatch symbol (`.klp.sym.<object>.<name>,<sympos>`) moves into a livepatch relocation
// section `.klp.rela.<object>.<section>` (SHF_ALLOC | SHF_RELA_LIVEPATCH) and the symbol into
// SHN_LIVEPATCH, as Documentation/livepatch/module-elf-format.rst describes, so that the kernel's
// livepatch core, not the module loader, resolves them (for a module's symbols: when it loads).
import { readElf, writeElf, SHF, SHN, SHT, STB, type Rela, type Section, type Sym } from "./elf";
import { KLP_SYM_PREFIX } from "./patch-object";

export interface KlpConversion {
  bytes: Buffer;
  /** Livepatch relocation sections written, by name, with their relocation counts. */
  sections: Record<string, number>;
  /** Undefined symbols left for the module loader (must all be exports of vmlinux). */
  undefined: string[];
}

const KLP_SYM = /^\.klp\.sym\.([^.]+)\.([^,]+),(\d+)$/;

/** The module cannot be made a livepatch module as built: the kernel would refuse or misapply it. */
export class KlpLayoutError extends Error {
  override name = "KlpLayoutError";
}

export interface KlpOptions {
  /**
   * The klp_object (vmlinux or a module) whose code each section of the module patches, by section
   * name; null when sections of several objects were merged into it. A `.klp.rela.<object>.*`
   * section is applied when <object> loads, so its name is the object the code patches, not the
   * object of the symbols it reaches (nfsd's code reaches sunrpc's symbols in `.klp.rela.nfsd.*`).
   * Sections not named here (the wrapper's) take the object of their symbols.
   */
  objectOf?: ReadonlyMap<string, string | null>;
}

export function klpRelocations(ko: Buffer, opts: KlpOptions = {}): KlpConversion {
  const obj = readElf(ko);
  const sections: Record<string, number> = {};
  const klpSyms = new Set<Sym>();
  for (const s of obj.symbols) {
    if (!s.name.startsWith(KLP_SYM_PREFIX)) continue;
    if (!KLP_SYM.test(s.name)) throw new Error(`malformed livepatch symbol ${s.name}`);
    if (s.section) throw new Error(`livepatch symbol ${s.name} is defined in the module`);
    klpSyms.add(s);
  }
  const added: Section[] = [];
  for (const sec of obj.sections) {
    if (sec.type !== SHT.RELA || !sec.relas || (sec.flags & SHF.RELA_LIVEPATCH) !== 0n) continue;
    const target = sec.target as Section;
    const keep: Rela[] = [];
    const moved = new Map<string, Rela[]>();
    for (const r of sec.relas) {
      const m = klpSyms.has(r.sym) ? KLP_SYM.exec(r.sym.name) : null;
      if (!m) {
        keep.push(r);
        continue;
      }
      const symObject = m[1] as string;
      const owner = opts.objectOf?.get(target.name);
      if (owner === null) throw new KlpLayoutError(`${target.name} holds code of several patched objects, and a livepatch relocation section belongs to one`);
      const secObject = owner ?? symObject;
      // kernel/livepatch/core.c klp_resolve_symbols: a module's section may not reach vmlinux's
      // symbols (those must be exports), and vmlinux's code cannot reach a module's.
      if (secObject !== "vmlinux" && symObject === "vmlinux") throw new KlpLayoutError(`${secObject}'s new code refers to ${m[2]}, a symbol of vmlinux that vmlinux does not export: the kernel refuses that from a module's livepatch relocations`);
      if (secObject === "vmlinux" && symObject !== "vmlinux") throw new KlpLayoutError(`new code in vmlinux refers to ${m[2]} of the module ${symObject}, which vmlinux cannot reach`);
      const list = moved.get(secObject) ?? [];
      list.push(r);
      moved.set(secObject, list);
    }
    if (moved.size === 0) continue;
    if ((target.flags & SHF.ALLOC) === 0n) throw new Error(`livepatch symbols referenced from the non-allocated section ${target.name}`);
    sec.relas = keep;
    for (const [object, relas] of moved) {
      const name = `.klp.rela.${object}.${target.name.replace(/^\./, "")}`;
      if (name in sections) throw new Error(`two relocation sections for ${target.name}`);
      sections[name] = relas.length;
      added.push({ name, type: SHT.RELA, flags: SHF.ALLOC | SHF.INFO_LINK | SHF.RELA_LIVEPATCH, addr: 0n, addralign: 8, entsize: 24, data: Buffer.alloc(0), size: 0, index: 0, target: target, relas });
    }
  }
  // A relocation section left empty goes; the kernel would apply nothing from it anyway.
  obj.sections = obj.sections.filter((s) => !(s.type === SHT.RELA && s.relas && s.relas.length === 0 && (s.flags & SHF.RELA_LIVEPATCH) === 0n));
  obj.sections.push(...added);
  for (const s of klpSyms) {
    s.shndx = SHN.LIVEPATCH;
    s.bind = STB.GLOBAL;
  }
  const undefinedLeft = obj.symbols.filter((s) => !s.section && s.shndx === SHN.UNDEF && s.name !== "").map((s) => s.name);
  return { bytes: writeElf(obj), sections, undefined: undefinedLeft };
}
