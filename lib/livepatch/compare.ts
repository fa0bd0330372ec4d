// The pre/post object diff: which functions the compiler's output says changed, which are new,
// and what no live patch can carry (changed data, changed __init code). Pure: two parsed objects
// in, a verdict out. This is the verdict that counts; the staging-time analysis is a preview.
import { SHF, STT, sectionBytes, type Rela, type Section, type Sym } from "./elf";
import {
  baseName,
  coldParent,
  DYNDBG,
  indexObject,
  resolveTarget,
  sectionKind,
  stringAt,
  type ObjectIndex,
  type SectionKind,
  type Target,
} from "./kernel-object";
import type { ElfObject } from "./elf";

export type RefusalCode =
  | "data_changed" // initialised data or a constant changed
  | "data_layout" // a variable changed size
  | "init_changed" // __init/__exit code or data changed
  | "percpu_added" // a new per-CPU variable
  | "unsupported"; // anything else the builder cannot carry safely

export interface Refusal {
  code: RefusalCode;
  symbol: string;
  message: string;
}

export interface ObjectDiff {
  pre: ObjectIndex;
  post: ObjectIndex;
  /** post symbol → pre symbol, for every function and variable found in both. */
  correlation: Map<Sym, Sym>;
  /** Functions whose code changed (post symbols), in symbol-table order. */
  changed: Sym[];
  /** Functions only the post object has. */
  added: Sym[];
  /** Variables only the post object has (the module carries its own copy). */
  addedData: Sym[];
  refusals: Refusal[];
}

const isDefined = (s: Sym) => s.section !== undefined;
const kindOf = (s: Sym): SectionKind | undefined => (s.section ? sectionKind(s.section) : undefined);
const isFunction = (s: Sym) => s.type === STT.FUNC && isDefined(s);
const isVariable = (s: Sym) => s.type === STT.OBJECT && isDefined(s);

/** Sections whose contents are bookkeeping of the build, never compared. */
const BOOKKEEPING = /^(\.modinfo|__ksymtab|__kcrctab|__ksymtab_strings|\.gnu\.linkonce\.this_module|__versions|\.export_symbol)/;

export function diffObjects(preObj: ElfObject, postObj: ElfObject): ObjectDiff {
  const pre = indexObject(preObj);
  const post = indexObject(postObj);
  const correlation = correlate(pre, post);
  const refusals: Refusal[] = [];
  const changed: Sym[] = [];
  const added: Sym[] = [];
  const addedData: Sym[] = [];
  const eq = new Equivalence(pre, post, correlation);

  const coldOf = (idx: ObjectIndex) => {
    const m = new Map<string, Sym[]>();
    for (const s of idx.obj.symbols) {
      const parent = isFunction(s) ? coldParent(s.name) : undefined;
      if (parent) m.set(parent, [...(m.get(parent) ?? []), s]);
    }
    return m;
  };
  const preCold = coldOf(pre);
  const postCold = coldOf(post);

  for (const s of post.obj.symbols) {
    if (!isFunction(s) || coldParent(s.name)) continue;
    const kind = kindOf(s);
    const old = correlation.get(s);
    if (kind === "init") {
      if (!old || !eq.sameFunction(old, s)) {
        refusals.push({ code: "init_changed", symbol: s.name, message: `${s.name} is __init/__exit code (it ran at boot or runs at unload): a live patch cannot re-run it` });
      }
      continue;
    }
    if (kind !== "text") continue;
    if (!old) {
      added.push(s);
      continue;
    }
    const coldPre = preCold.get(old.name) ?? [];
    const coldPost = postCold.get(s.name) ?? [];
    const same =
      eq.sameFunction(old, s) &&
      coldPre.length === coldPost.length &&
      coldPost.every((c) => {
        const o = correlation.get(c);
        return o !== undefined && eq.sameFunction(o, c);
      });
    if (!same) changed.push(s);
  }

  for (const s of post.obj.symbols) {
    if (!isVariable(s) || BOOKKEEPING.test((s.section as Section).name)) continue;
    const kind = kindOf(s);
    const old = correlation.get(s);
    if (!old) {
      if ((s.section as Section).name.startsWith(".data..percpu")) {
        refusals.push({ code: "percpu_added", symbol: s.name, message: `the patch adds the per-CPU variable ${s.name}: a live patch cannot add per-CPU data` });
      } else if (kind === "init") {
        // New __initdata is only used by new __init code, refused above.
      } else if (kind !== "special" && kind !== "ignored") {
        addedData.push(s);
      }
      continue;
    }
    if (kind === "special" || kind === "ignored" || kind === "strings") continue;
    // A dynamic debug descriptor (pr_debug's `__UNIQUE_ID_ddebugN`) holds where the message is
    // (file, function, line, format for the control file) and whether it is on: a moved line
    // changes its initial value, not what the code does. The new code uses the kernel's own, so
    // `echo … > dynamic_debug/control` goes on switching it.
    if ((s.section as Section).name === DYNDBG) continue;
    if (old.size !== s.size) {
      refusals.push({ code: kind === "init" ? "init_changed" : "data_layout", symbol: s.name, message: `${s.name} changes size (${old.size} → ${s.size} bytes): the running kernel's instance cannot change layout` });
      continue;
    }
    if (!eq.sameData(old, s)) {
      refusals.push({
        code: kind === "init" ? "init_changed" : "data_changed",
        symbol: s.name,
        message:
          kind === "init"
            ? `${s.name} is __initdata and changes: it was used at boot and a live patch cannot re-run that`
            : `the initial value of ${s.name} changes: the running kernel's ${s.name} already holds the old value and a live patch does not rewrite data`,
      });
    }
  }
  return { pre, post, correlation, changed, added, addedData, refusals };
}

/** Pairs post symbols with pre symbols: by name, then GCC-numbered locals by the functions that use them. */
export function correlate(pre: ObjectIndex, post: ObjectIndex): Map<Sym, Sym> {
  const out = new Map<Sym, Sym>();
  const used = new Set<Sym>();
  const named = (s: Sym) => (s.type === STT.FUNC || s.type === STT.OBJECT) && isDefined(s);
  // A static local's number says nothing across the two objects: GCC numbers them from the end
  // of the file, so one added after `f` renames f's `counter.1` to `counter.2` and gives `counter.1`
  // to another function's. They are paired only through the functions that use them (below).
  const staticLocal = (s: Sym) => s.type === STT.OBJECT && s.bind === 0 && /\.\d+$/.test(s.name);
  const preByName = new Map<string, Sym>();
  for (const s of pre.obj.symbols) if (named(s) && !staticLocal(s)) preByName.set(s.name, s);
  for (const s of post.obj.symbols) {
    if (!named(s) || staticLocal(s)) continue;
    const p = preByName.get(s.name);
    if (p && p.type === s.type && !used.has(p)) {
      out.set(s, p);
      used.add(p);
    }
  }
  // Numbered locals (`__already_done.12`) renumber when a patch adds one before them: walk the
  // references of each pair of functions in step and pair the unpaired locals they reach; and of
  // each pair of variables (a table of `__compound_literal.N` pin lists, pinctrl-amd's
  // kerncz_groups, renumbered by a literal the patch adds before it).
  const numbered = (s: Sym) => named(s) && s.bind === 0 && /\.\d+$/.test(s.name);
  let progress = true;
  while (progress) {
    progress = false;
    for (const [postFn, preFn] of out) {
      const a = referencedSymbols(post, postFn).filter((s) => numbered(s) && !out.has(s));
      const b = referencedSymbols(pre, preFn).filter((s) => numbered(s) && !used.has(s));
      for (const s of a) {
        const i = b.findIndex((p) => baseName(p.name) === baseName(s.name) && p.type === s.type && !used.has(p) && sameConstant(p, s));
        if (i < 0) continue;
        const p = b[i] as Sym;
        b.splice(i, 1);
        out.set(s, p);
        used.add(p);
        progress = true;
      }
    }
  }
  // Whatever is left: a base name with exactly one unpaired symbol on each side.
  const left = (idx: ObjectIndex, taken: (s: Sym) => boolean) => {
    const m = new Map<string, Sym[]>();
    for (const s of idx.obj.symbols) if (numbered(s) && !taken(s)) m.set(baseName(s.name), [...(m.get(baseName(s.name)) ?? []), s]);
    return m;
  };
  const preLeft = left(pre, (s) => used.has(s));
  for (const [base, list] of left(post, (s) => out.has(s))) {
    const other = preLeft.get(base);
    const [s, p] = [list[0] as Sym, other?.[0]];
    if (list.length === 1 && other?.length === 1 && p && s.type === p.type && sameConstant(p, s)) out.set(s, p);
  }
  return out;
}

/**
 * A read-only static local (`__func__.N`, a `static const` table) pairs only with one of the same
 * bytes: a function may reference several (its own `__func__` and an inlined helper's) in an order
 * the patch changes, and a constant whose content changes needs no binding to the kernel's copy
 * (nothing writes it): the module carries its own. Writable ones pair by use alone.
 */
function sameConstant(pre: Sym, post: Sym): boolean {
  const readOnly = (s: Sym) => s.section !== undefined && (s.section.flags & SHF.WRITE) === 0n;
  if (!readOnly(pre) || !readOnly(post)) return true;
  return pre.size === post.size && slice(pre).equals(slice(post));
}

function relasIn(idx: ObjectIndex, s: Sym): Rela[] {
  const sec = s.section;
  if (!sec) return [];
  const rela = idx.relaOf.get(sec);
  if (!rela?.relas) return [];
  const start = s.value;
  const end = s.value + (s.size === 0n ? BigInt(sectionBytes(sec).length) : s.size);
  return rela.relas.filter((r) => r.offset >= start && r.offset < end).sort((x, y) => (x.offset < y.offset ? -1 : x.offset > y.offset ? 1 : 0));
}

function referencedSymbols(idx: ObjectIndex, fn: Sym): Sym[] {
  const out: Sym[] = [];
  for (const r of relasIn(idx, fn)) {
    const t = resolveTarget(idx, r);
    if (t.kind === "symbol") out.push(t.sym);
  }
  return out;
}

/** Compares code and data of the two objects, relocation targets by meaning rather than by index. */
class Equivalence {
  constructor(
    private readonly pre: ObjectIndex,
    private readonly post: ObjectIndex,
    private readonly correlation: Map<Sym, Sym>,
  ) {}

  sameFunction(a: Sym, b: Sym): boolean {
    return this.sameBytes(a, b);
  }

  sameData(a: Sym, b: Sym): boolean {
    return this.sameBytes(a, b);
  }

  private sameBytes(a: Sym, b: Sym): boolean {
    if (a.size !== b.size || !a.section || !b.section) return false;
    const bytesA = slice(a);
    const bytesB = slice(b);
    if (!bytesA.equals(bytesB)) return false;
    const ra = relasIn(this.pre, a);
    const rb = relasIn(this.post, b);
    if (ra.length !== rb.length) return false;
    for (let i = 0; i < ra.length; i++) {
      const x = ra[i] as Rela;
      const y = rb[i] as Rela;
      if (x.offset - a.value !== y.offset - b.value || x.type !== y.type) return false;
      if (!this.sameTarget(resolveTarget(this.pre, x), resolveTarget(this.post, y), x.addend, y.addend)) return false;
    }
    return true;
  }

  private sameTarget(x: Target, y: Target, addendX: bigint, addendY: bigint): boolean {
    if (x.kind === "symbol" && y.kind === "symbol") {
      if (x.delta !== y.delta) return false;
      const paired = this.correlation.get(y.sym);
      if (paired) return paired === x.sym;
      // Undefined (external) symbols are the same thing when they have the same name.
      return !isDefined(x.sym) && !isDefined(y.sym) && x.sym.name === y.sym.name;
    }
    if (x.kind === "section" && y.kind === "section") {
      const kx = sectionKind(x.section);
      if (kx !== sectionKind(y.section)) return false;
      // NUL-terminated strings (SHF_STRINGS): `.rodata.str1.1`, and GCC's per-function
      // `.rodata.<function>.str1.1` with -fdata-sections. Compared whole, not by a fixed window.
      if (kx === "strings" && (x.section.flags & SHF.STRINGS) !== 0n && (y.section.flags & SHF.STRINGS) !== 0n) {
        const sx = stringAt(x.section, x.offset);
        const sy = stringAt(y.section, y.offset);
        return sx !== undefined && sy !== undefined && sx.text === sy.text && Number(x.offset) - sx.start === Number(y.offset) - sy.start;
      }
      if (kx === "strings") {
        const width = Math.max(8, x.section.entsize || 8);
        const bx = x.section.data.subarray(Number(x.offset), Number(x.offset) + width);
        const by = y.section.data.subarray(Number(y.offset), Number(y.offset) + width);
        return bx.length > 0 && bx.equals(by);
      }
      return x.section.name === y.section.name && addendX === addendY && sectionBytes(x.section).equals(sectionBytes(y.section));
    }
    return false;
  }
}

function slice(s: Sym): Buffer {
  const data = sectionBytes(s.section as Section);
  const start = Number(s.value);
  return data.subarray(start, start + Number(s.size));
}
