// Builds the object a livepatch module is linked from: the changed and new functions' code as
// compiled from the patched source, the data only they use, and the special-section entries
// that belong to them. Every reference to anything else becomes a reference the kernel resolves
// at load: an export of vmlinux through the module loader, or a livepatch symbol
// `.klp.sym.<object>.<name>,<sympos>` that `klpRelocations` (klp.ts) turns into a livepatch
// relocation once the module is linked.
import { SHF, SHN, STB, STT, SHT, EM_X86_64, ET, type ElfObject, type Rela, type Section, type Sym } from "./elf";
import type { ObjectDiff, Refusal } from "./compare";
import { ALT_AUX, ALT_REPLACEMENT, DYNDBG, SPECIAL_SECTIONS, baseName, coldParent, resolveTarget, sectionKind, type ObjectIndex } from "./kernel-object";
import { UnresolvedSymbol } from "./symbols";

/** How included code reaches a symbol it does not carry. */
export type Reach = { kind: "export" } | { kind: "klp"; object: string; name: string; sympos: number };

export interface SymbolRef {
  /** The name in the running kernel (for a renumbered local, the pre-patch name). */
  name: string;
  /** Defined in the patched translation unit (a static or global of the file) rather than elsewhere. */
  inUnit: boolean;
  local: boolean;
  type: number;
}

/**
 * A `static struct lock_class_key __key` of mutex_init and its kind without lockdep: an empty
 * struct, no bytes and no state, told apart only by an address lockdep (off) would use. New code
 * takes its own rather than be bound to one of the kernel's same-named, same-placed copies.
 */
function emptyLockKey(s: Sym): boolean {
  return s.type === STT.OBJECT && s.bind === STB.LOCAL && s.size === 0n && s.section !== undefined && sectionKind(s.section) === "data" && baseName(s.name) === "__key";
}

export interface PatchObjectOptions {
  diff: ObjectDiff;
  /** The object the functions belong to: "vmlinux" or a module name. */
  object: string;
  resolve: (ref: SymbolRef) => Reach;
}

export interface ReplacedFunction {
  /** The kernel's name of the function replaced, and its position. */
  name: string;
  sympos: number;
  /** The global symbol of the new code in the patch object. */
  entry: string;
}

export type PatchObjectResult =
  | { ok: true; object: ElfObject; replaced: ReplacedFunction[]; added: string[]; klpSymbols: string[]; notes: string[] }
  | { ok: false; refusals: Refusal[] };

export const KLP_SYM_PREFIX = ".klp.sym.";
const UNREACHABLE = ".splicer.unreachable";
export const klpSymbolName = (object: string, name: string, sympos: number) => `${KLP_SYM_PREFIX}${object}.${name},${sympos}`;

/**
 * A function's name as the compiler stores it (`__func__.N`): read-only bytes with no relocations,
 * only ever printed. The module carries its own copy, as it does string literals: a module's
 * `__func__.N` cannot be placed in the running kernel when its .ko has no FILE symbols (ext4 has
 * five `__func__.25`), and nothing tells the copy from the original but its address.
 */
function functionName(idx: ObjectIndex, s: Sym): boolean {
  if (s.type !== STT.OBJECT || s.bind !== STB.LOCAL || !s.section || (s.section.flags & SHF.WRITE) !== 0n) return false;
  if (!["__func__", "__FUNCTION__", "__PRETTY_FUNCTION__"].includes(baseName(s.name))) return false;
  return !(idx.relaOf.get(s.section)?.relas ?? []).some((r) => r.offset >= s.value && r.offset < s.value + s.size);
}

export function buildPatchObject(opts: PatchObjectOptions): PatchObjectResult {
  const { diff } = opts;
  const post = diff.post;
  const refusals: Refusal[] = [...diff.refusals];
  const notes: string[] = [];
  const out: ElfObject = { type: ET.REL, machine: EM_X86_64, flags: 0, osabi: 0, sections: [], symbols: [] };

  // What the module carries: changed and new functions with their .cold parts, new variables.
  const carried = new Set<Sym>([...diff.changed, ...diff.added, ...diff.addedData]);
  const parents = new Set([...diff.changed, ...diff.added].map((s) => s.name));
  for (const s of post.obj.symbols) {
    const parent = s.type === STT.FUNC && s.section ? coldParent(s.name) : undefined;
    if (parent && parents.has(parent)) carried.add(s);
  }

  const cloned = new Map<Section, Section>();
  const symMap = new Map<Sym, Sym>();
  const external = new Map<string, Sym>();
  const pending: Section[] = [];

  const cloneSection = (s: Section, data?: Buffer, name?: string): Section => {
    const existing = cloned.get(s);
    if (existing && !data) return existing;
    const c: Section = { name: name ?? s.name, type: s.type, flags: s.flags, addr: 0n, addralign: s.addralign, entsize: s.entsize, data: data ?? Buffer.from(s.data), size: data ? data.length : s.size, index: 0 };
    out.sections.push(c);
    if (!data) {
      cloned.set(s, c);
      pending.push(s);
    }
    out.symbols.push({ name: "", value: 0n, size: 0n, type: STT.SECTION, bind: STB.LOCAL, other: 0, section: c, shndx: 0, index: 0 });
    return c;
  };
  const sectionSymbolOf = (c: Section): Sym => out.symbols.find((s) => s.type === STT.SECTION && s.section === c) as Sym;

  // A carried symbol: its section is cloned whole when the symbol is alone in it, else carved out.
  const carry = (s: Sym): Sym => {
    const known = symMap.get(s);
    if (known) return known;
    const sec = s.section as Section;
    const alone = (post.definedIn.get(sec) ?? []).filter((x) => x.type === STT.FUNC || x.type === STT.OBJECT).length <= 1;
    let copy: Sym;
    if (alone || sectionKind(sec) === "text") {
      const c = cloneSection(sec);
      copy = { ...s, bind: STB.LOCAL, section: c, index: 0 };
    } else {
      // A variable sharing its section (e.g. `.data.once`): its own section in the module.
      const start = Number(s.value);
      const bytes = sec.type === SHT.NOBITS ? Buffer.alloc(0) : Buffer.from(sec.data.subarray(start, start + Number(s.size)));
      const c = cloneSection(sec, bytes, `${sec.name}.${s.name}`);
      if (sec.type === SHT.NOBITS) c.size = Number(s.size);
      copy = { ...s, value: 0n, bind: STB.LOCAL, section: c, index: 0 };
      const relas = post.relaOf.get(sec)?.relas?.filter((r) => r.offset >= s.value && r.offset < s.value + s.size) ?? [];
      if (relas.length > 0) carvedRelas.push({ section: c, base: s.value, relas });
    }
    out.symbols.push(copy);
    symMap.set(s, copy);
    return copy;
  };
  const carvedRelas: { section: Section; base: bigint; relas: Rela[] }[] = [];

  // static_cpu_has() leaves a stub per use in .altinstr_aux (test the feature bit, jump back into
  // the function) that runs until alternatives are applied, which for a module is at its load.
  // The module carries the stubs its code jumps to, each up to the next stub any code jumps to.
  let aux: { out: Section; starts: bigint[]; placed: Map<bigint, bigint> } | undefined;
  const auxStub = (sec: Section, at: bigint): { section: Section; shift: bigint } => {
    if (!aux) {
      const starts = new Set<bigint>();
      for (const [target, rs] of post.relaOf) {
        if (target === sec || sectionKind(target) !== "text") continue;
        for (const r of rs.relas ?? []) {
          const t = r.sym.section === sec ? resolveTarget(post, r) : undefined;
          if (t?.kind === "section") starts.add(t.offset);
        }
      }
      aux = { out: cloneSection(sec, Buffer.alloc(0), sec.name), starts: [...starts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), placed: new Map() };
    }
    const a = aux;
    const start = a.starts.findLast((x) => x <= at) ?? 0n;
    let placed = a.placed.get(start);
    if (placed === undefined) {
      const end = a.starts.find((x) => x > start) ?? BigInt(sec.data.length);
      placed = BigInt(a.out.data.length);
      a.out.data = Buffer.concat([a.out.data, sec.data.subarray(Number(start), Number(end))]);
      a.out.size = a.out.data.length;
      a.placed.set(start, placed);
      const relas = post.relaOf.get(sec)?.relas?.filter((r) => r.offset >= start && r.offset < end) ?? [];
      if (relas.length > 0) carvedRelas.push({ section: a.out, base: start - placed, relas });
    }
    return { section: a.out, shift: placed - start };
  };
  /** The module's one undefined symbol of this name, resolved at load. */
  const externalSymbol = (name: string): Sym => {
    let sym = external.get(name);
    if (!sym) {
      sym = { name, value: 0n, size: 0n, type: STT.NOTYPE, bind: STB.GLOBAL, other: 0, section: undefined, shndx: SHN.UNDEF, index: 0 };
      external.set(name, sym);
      out.symbols.push(sym);
    }
    return sym;
  };

  const outside = (s: Sym): Sym => {
    const pre = diff.correlation.get(s);
    const ref: SymbolRef = { name: pre?.name ?? s.name, inUnit: s.section !== undefined, local: s.bind === STB.LOCAL, type: s.type };
    let reach: Reach;
    try {
      reach = opts.resolve(ref);
    } catch (err) {
      if (err instanceof UnresolvedSymbol) {
        refusals.push({ code: "unsupported", symbol: ref.name, message: `the new code refers to ${ref.name}, which cannot be placed in the running kernel: ${err.message}` });
        reach = { kind: "export" };
      } else throw err;
    }
    const name = reach.kind === "export" ? ref.name : klpSymbolName(reach.object, reach.name, reach.sympos);
    return externalSymbol(name);
  };

  /** The output relocation for a relocation of carried code. */
  const mapRela = (r: Rela, offset: bigint): Rela => {
    const t = resolveTarget(post, r);
    if (t.kind === "section") {
      const kind = sectionKind(t.section);
      // Where the symbol the relocation names sits in its section (0 for the section's own).
      const base = r.sym.type === STT.SECTION ? 0n : r.sym.value;
      if (kind === "strings" || kind === "rodata" || kind === "other" || t.section.name === ALT_REPLACEMENT) {
        // Against the cloned section's own symbol: a `.LC` label is not carried.
        return { offset, type: r.type, sym: sectionSymbolOf(cloneSection(t.section)), addend: r.addend + base };
      }
      if (t.section.name === ALT_AUX) {
        const { section, shift } = auxStub(t.section, t.offset);
        return { offset, type: r.type, sym: sectionSymbolOf(section), addend: r.addend + base + shift };
      }
      refusals.push({ code: "unsupported", symbol: t.section.name, message: `the new code refers to an unnamed place in ${t.section.name}, which a live patch cannot reach` });
      // Refused already: any symbol will do, the build does not go on.
      return { offset, type: r.type, sym: externalSymbol(UNREACHABLE), addend: r.addend };
    }
    const s = t.sym;
    if (carried.has(s) || functionName(post, s) || emptyLockKey(s)) {
      if (emptyLockKey(s) && !carried.has(s)) notes.push(`${s.name} (an empty lock_class_key: no lockdep, no state) is the module's own`);
      carried.add(s);
      return { offset, type: r.type, sym: carry(s), addend: t.delta };
    }
    if (s.section && sectionKind(s.section) === "init") {
      refusals.push({ code: "init_changed", symbol: s.name, message: `the new code refers to ${s.name}, which is __init/__exit and gone from the running kernel` });
    }
    return { offset, type: r.type, sym: outside(s), addend: t.delta };
  };

  for (const s of carried) carry(s);

  // Relocations of every cloned section and of every carved piece, including the ones mapping
  // pulls in (strings, static_cpu_has stubs…); a carved section's go in one relocation section.
  const done = new Set<Section>();
  const carvedOut = new Map<Section, Rela[]>();
  let carvedDone = 0;
  const drain = () => {
    while (pending.length > 0 || carvedDone < carvedRelas.length) {
      const src = pending.shift();
      if (src) {
        if (done.has(src)) continue;
        done.add(src);
        const relas = post.relaOf.get(src)?.relas ?? [];
        if (relas.length > 0) addRelaSection(out, cloned.get(src) as Section, relas.map((r) => mapRela(r, r.offset)));
        continue;
      }
      const carved = carvedRelas[carvedDone++]!;
      const list = carvedOut.get(carved.section) ?? [];
      list.push(...carved.relas.map((r) => mapRela(r, r.offset - carved.base)));
      carvedOut.set(carved.section, list);
    }
  };
  drain();

  // Special sections: the entries whose first relocation points into carried code.
  const carriedText = new Set([...cloned.keys()].filter((s) => sectionKind(s) === "text"));
  let needsAlt = false;
  for (const [name, spec] of Object.entries(SPECIAL_SECTIONS)) {
    const sec = post.obj.sections.find((s) => s.name === name);
    if (!sec) continue;
    const relas = post.relaOf.get(sec)?.relas ?? [];
    let entries = entriesOwnedBy(post, sec, relas, spec.entrySize, carriedText);
    if (name === "__jump_table" && opts.object !== "vmlinux") {
      // A module's own static keys cannot be reached (checkKeys), but pr_debug's are only a
      // debug switch: without its entry the site keeps the code it was compiled with, the
      // default-off branch, so the patched code's debug messages stay off (as kpatch does).
      const dyndbg = entries.filter((i) => jumpKeyIn(post, relas, i * spec.entrySize, spec.entrySize) === DYNDBG);
      if (dyndbg.length > 0) {
        notes.push(`${dyndbg.length} pr_debug site(s) of the new code stay off: their dynamic debug switches are the module's own`);
        entries = entries.filter((i) => !dyndbg.includes(i));
      }
    }
    if (entries.length === 0) continue;
    if (name === ".altinstructions") needsAlt = true;
    const data = Buffer.concat(entries.map((i) => sec.data.subarray(i * spec.entrySize, (i + 1) * spec.entrySize)));
    const c = cloneSection(sec, data, name);
    const mapped: Rela[] = [];
    entries.forEach((i, k) => {
      const base = BigInt(i * spec.entrySize);
      for (const r of relas) {
        if (r.offset < base || r.offset >= base + BigInt(spec.entrySize)) continue;
        mapped.push(mapRela(r, r.offset - base + BigInt(k * spec.entrySize)));
      }
    });
    addRelaSection(out, c, mapped);
    if (name === "__jump_table" || name === ".static_call_sites") checkKeys(name, mapped, opts.object, refusals);
    if (spec.pair) {
      const pair = post.obj.sections.find((s) => s.name === spec.pair?.name);
      if (!pair) throw new Error(`${name} without ${spec.pair.name}`);
      const size = spec.pair.entrySize;
      cloneSection(pair, Buffer.concat(entries.map((i) => pair.data.subarray(i * size, (i + 1) * size))), pair.name);
    }
  }
  if (needsAlt) {
    const repl = post.obj.sections.find((s) => s.name === ALT_REPLACEMENT);
    if (repl) cloneSection(repl);
  }
  drain();
  for (const [section, relas] of carvedOut) addRelaSection(out, section, relas);

  // Entry points: a global alias for each replaced function, named for the wrapper to use.
  const replaced: ReplacedFunction[] = [];
  diff.changed.forEach((s, i) => {
    const copy = symMap.get(s) as Sym;
    const entry = `__splicer_new_${i}`;
    out.symbols.push({ ...copy, name: entry, bind: STB.GLOBAL, index: 0 });
    const pre = diff.correlation.get(s) as Sym;
    try {
      const reach = opts.resolve({ name: pre.name, inUnit: true, local: pre.bind === STB.LOCAL, type: STT.FUNC });
      replaced.push({ name: pre.name, sympos: reach.kind === "klp" ? reach.sympos : 0, entry });
    } catch (err) {
      if (!(err instanceof UnresolvedSymbol)) throw err;
      refusals.push({ code: "unsupported", symbol: pre.name, message: `${pre.name} changes but cannot be found in the running kernel: ${err.message}` });
    }
  });

  if (refusals.length > 0) return { ok: false, refusals: dedupe(refusals) };
  return { ok: true, object: out, replaced, added: diff.added.map((s) => s.name), klpSymbols: [...external.keys()].filter((n) => n.startsWith(KLP_SYM_PREFIX)), notes };
}

function addRelaSection(out: ElfObject, target: Section, relas: Rela[]): void {
  if (relas.length === 0) return;
  out.sections.push({ name: `.rela${target.name}`, type: SHT.RELA, flags: SHF.INFO_LINK, addr: 0n, addralign: 8, entsize: 24, data: Buffer.alloc(0), size: 0, index: 0, target, relas });
}

function entriesOwnedBy(post: ObjectIndex, sec: Section, relas: Rela[], size: number, text: Set<Section>): number[] {
  const length = sec.type === SHT.NOBITS ? sec.size : sec.data.length;
  if (length % size !== 0) throw new Error(`${sec.name} is ${length} bytes, not a whole number of ${size}-byte entries: this kernel's layout is not the one this builder knows`);
  const owners = new Set<number>();
  for (const r of relas) {
    if (Number(r.offset) % size !== 0) continue;
    const t = resolveTarget(post, r);
    const target = t.kind === "symbol" ? t.sym.section : t.section;
    if (target && text.has(target)) owners.add(Number(r.offset) / size);
  }
  return [...owners].sort((a, b) => a - b);
}

/** The section of the static key a __jump_table entry (code, target, key) uses. */
function jumpKeyIn(post: ObjectIndex, relas: Rela[], base: number, size: number): string | undefined {
  const key = relas.find((r) => Number(r.offset) >= base + 8 && Number(r.offset) < base + size);
  if (!key) return undefined;
  const t = resolveTarget(post, key);
  return t.kind === "symbol" ? t.sym.section?.name : t.section.name;
}

/** Static keys and static calls are set up when a module loads, before a module's livepatch relocations are resolved. */
function checkKeys(section: string, relas: Rela[], object: string, refusals: Refusal[]): void {
  if (object === "vmlinux") return;
  const prefix = `${KLP_SYM_PREFIX}${object}.`;
  for (const r of relas) {
    if (!r.sym.name.startsWith(prefix)) continue;
    const name = r.sym.name.slice(prefix.length).replace(/,\d+$/, "");
    refusals.push({
      code: "unsupported",
      symbol: name,
      message: `the new code uses ${section === "__jump_table" ? "the jump label (static key)" : "the static call"} ${name} of module ${object}: ${section === "__jump_table" ? "jump labels" : "static calls"} in a module cannot be live patched (they are set up before the module's livepatch relocations are resolved)`,
    });
  }
}

function dedupe(list: Refusal[]): Refusal[] {
  const seen = new Set<string>();
  return list.filter((r) => (seen.has(r.message) ? false : (seen.add(r.message), true)));
}
