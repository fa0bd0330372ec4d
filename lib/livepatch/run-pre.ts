// The run-pre check (Ksplice's name): before a function is replaced, its code as compiled here
// from the release's source ("pre") must be the code the release shipped. A mismatch means the
// source, config or compiler is not what built the running kernel, and the patch would replace
// code nobody looked at: the build is refused, naming the function.
import { readSectionTable, SHT, STT, type ElfObject, type Section, type Sym } from "./elf";
import { indexObject, relocationWidth, resolveTarget, sectionKind, type ObjectIndex } from "./kernel-object";
import type { KernelSymbol } from "./symbols";

export type RunPreResult = { ok: true } | { ok: false; reason: string };

/** Byte ranges [start, end) of a function that relocations (resolved at link or load) fill in. */
export type Mask = [number, number][];

/** Compares a function's bytes, ignoring every byte any relocation of either side writes. */
export function compareCode(opts: { name: string; pre: Buffer; preMask: Mask; shipped: Buffer; shippedMask?: Mask }): RunPreResult {
  const { pre, shipped, name } = opts;
  if (pre.length !== shipped.length) return { ok: false, reason: `${name} is ${shipped.length} bytes in the running kernel but ${pre.length} bytes when compiled from this source` };
  const masked = new Uint8Array(pre.length);
  for (const [a, b] of [...opts.preMask, ...(opts.shippedMask ?? [])]) masked.fill(1, Math.max(0, a), Math.min(pre.length, b));
  for (let i = 0; i < pre.length; i++) {
    if (!masked[i] && pre[i] !== shipped[i]) {
      return { ok: false, reason: `${name} differs from the running kernel's at byte ${i} of ${pre.length} (0x${(shipped[i] as number).toString(16).padStart(2, "0")} shipped, 0x${(pre[i] as number).toString(16).padStart(2, "0")} compiled here)` };
    }
  }
  return { ok: true };
}

/** A function's bytes in a relocatable object and the ranges its relocations fill in. */
export function functionCode(obj: ElfObject, fn: Sym): { bytes: Buffer; mask: Mask } {
  const sec = fn.section as Section;
  const start = Number(fn.value);
  const end = start + Number(fn.size);
  const mask: Mask = [];
  for (const r of obj.sections) {
    if (r.type !== SHT.RELA || r.target !== sec || !r.relas) continue;
    for (const x of r.relas) {
      const o = Number(x.offset);
      if (o >= start && o < end) mask.push([o - start, o - start + relocationWidth(x.type)]);
    }
  }
  return { bytes: sec.data.subarray(start, end), mask };
}

/** The code of vmlinux (a stripped ELF from the release's vmlinuz), read by address. */
export class VmlinuxCode {
  private readonly sections: { addr: bigint; offset: number; size: number }[];
  constructor(private readonly image: Buffer) {
    this.sections = readSectionTable(image)
      .filter((s) => s.type === SHT.PROGBITS && s.addr !== 0n)
      .map((s) => ({ addr: s.addr, offset: s.offset, size: s.size }));
  }
  read(addr: bigint, size: number): Buffer | undefined {
    const s = this.sections.find((x) => addr >= x.addr && addr + BigInt(size) <= x.addr + BigInt(x.size));
    if (!s) return undefined;
    const o = s.offset + Number(addr - s.addr);
    return this.image.subarray(o, o + size);
  }
}

/** A module as shipped (.ko): its functions' code with their relocation sites, by kernel symbol. */
export class ModuleCode {
  private readonly funcs: Sym[];
  readonly index: ObjectIndex;
  constructor(obj: ElfObject) {
    this.index = indexObject(obj);
    this.funcs = obj.symbols.filter((s) => s.type === STT.FUNC && s.section && sectionKind(s.section) === "text");
  }
  /** The `position`-th (1-based) function of this name in symbol-table order. */
  function(name: string, position = 1): Sym | undefined {
    return this.funcs.filter((s) => s.name === name)[position - 1];
  }
}

/**
 * The ways to name the place a relocation to `sym` + `delta` reaches, as `name@delta`: by `sym`,
 * by any symbol that starts where it does (an empty `lock_class_key` without lockdep shares its
 * address: ib_core's `__key.0` and `__key.1`, raid456's `__key.110` and `raid5_wq`), and by any
 * that ends there (`vmbus_versions + 32`, the end of an array a loop runs to, is where the next
 * variable starts). Which one a relocation names is the assembler's choice; the place is the same.
 */
function namings(idx: ObjectIndex, sym: Sym, delta: bigint): Set<string> {
  const out = new Set([`${sym.name}@${delta}`]);
  if (!sym.section) return out;
  for (const s of idx.definedIn.get(sym.section) ?? []) {
    if (s.name === "") continue;
    if (s.value === sym.value) out.add(`${s.name}@${delta}`);
    if (s.value + s.size === sym.value) out.add(`${s.name}@${s.size + delta}`);
  }
  return out;
}

/**
 * Run-pre for one function of a module. A module ships relocatable, so more than its bytes can be
 * checked: where both the code compiled here and the shipped code have a relocation at the same
 * place, both must name the same symbol at the same offset. That is what proves a static local or
 * a static function the new code binds to by name (`_rs.26`) is the one the running code uses.
 */
export function runPreModule(opts: { name: string; pre: ObjectIndex; preFn: Sym; shipped: ObjectIndex; shippedFn: Sym }): RunPreResult {
  const pre = functionCode(opts.pre.obj, opts.preFn);
  const shipped = functionCode(opts.shipped.obj, opts.shippedFn);
  const bytes = compareCode({ name: opts.name, pre: pre.bytes, preMask: pre.mask, shipped: shipped.bytes, shippedMask: shipped.mask });
  if (!bytes.ok) return bytes;
  const named = (idx: ObjectIndex, fn: Sym) => {
    const m = new Map<bigint, { name: string; delta: bigint; namings: Set<string> }>();
    for (const r of idx.relaOf.get(fn.section as Section)?.relas ?? []) {
      if (r.offset < fn.value || r.offset >= fn.value + fn.size) continue;
      const t = resolveTarget(idx, r);
      if (t.kind === "symbol" && t.sym.name !== "") m.set(r.offset - fn.value, { name: t.sym.name, delta: t.delta, namings: namings(idx, t.sym, t.delta) });
    }
    return m;
  };
  const shippedTargets = named(opts.shipped, opts.shippedFn);
  for (const [at, mine] of named(opts.pre, opts.preFn)) {
    const theirs = shippedTargets.get(at);
    if (theirs && !theirs.namings.has(`${mine.name}@${mine.delta}`)) {
      const show = (x: { name: string; delta: bigint }) => `${x.name}${x.delta === 0n ? "" : x.delta > 0n ? `+${x.delta}` : `${x.delta}`}`;
      return { ok: false, reason: `${opts.name} refers to ${show(theirs)} at byte ${at} in the running kernel but to ${show(mine)} when compiled from this source` };
    }
  }
  return { ok: true };
}

/** Run-pre for one function of vmlinux. */
export function runPreVmlinux(opts: { name: string; pre: { bytes: Buffer; mask: Mask }; symbol: KernelSymbol; code: VmlinuxCode }): RunPreResult {
  const { symbol } = opts;
  if (symbol.size !== opts.pre.bytes.length) {
    return { ok: false, reason: `${opts.name} is ${symbol.size} bytes in the running kernel but ${opts.pre.bytes.length} bytes when compiled from this source` };
  }
  const shipped = opts.code.read(symbol.addr, symbol.size);
  if (!shipped) return { ok: false, reason: `${opts.name}'s code (at 0x${symbol.addr.toString(16)}) is not in the release's vmlinux image` };
  return compareCode({ name: opts.name, pre: opts.pre.bytes, preMask: opts.pre.mask, shipped });
}
