// The order in which the running kernel lists vmlinux's symbols, which is what livepatch's
// `sympos` counts in (kernel/livepatch/core.c, klp_find_object_symbol: the n-th symbol of that name
// met by kallsyms_on_each_symbol; 0 means "the only one").
//
// How the kernel builds that list (6.1, scripts/link-vmlinux.sh): scripts/mksysmap turns
// `nm -n vmlinux` into System.map lines, scripts/kallsyms drops some of them (is_ignored_symbol)
// and sorts the rest (compare_symbols). The same two steps are applied here to R's own System.map.
import { lineMatches } from "@/lib/text";

export interface MapEntry {
  address: bigint;
  /** nm's type letter: t, T, d, D, r, R, b, B, W, V, A, … */
  letter: string;
  name: string;
}

/** `ffffffff81000000 T _text` lines of a System.map (or `nm -n` output). */
export function parseSystemMap(text: string): MapEntry[] {
  return lineMatches(text, /^([0-9a-fA-F]+) (\S) (\S+)/).map((m) => ({ address: BigInt(`0x${m[1]}`), letter: m[2] as string, name: m[3] as string }));
}

/** scripts/mksysmap: what it drops from `nm -n vmlinux` to make System.map (for a vmlinux without one). */
export function mksysmapKeeps(line: string): boolean {
  return !/ [aNUw] | \$| \.L| __crc_| __kstrtab_| __kstrtabns_| L0$/.test(line);
}

// scripts/kallsyms.c (6.1), is_ignored_symbol.
const IGNORED_NAMES = new Set([
  "kallsyms_addresses",
  "kallsyms_offsets",
  "kallsyms_relative_base",
  "kallsyms_num_syms",
  "kallsyms_names",
  "kallsyms_markers",
  "kallsyms_token_table",
  "kallsyms_token_index",
  "kallsyms_seqs_of_names",
  "_SDA_BASE_",
  "_SDA2_BASE_",
]);
const IGNORED_PREFIXES = [
  "__efistub_",
  "__kvm_nvhe_$",
  "__kvm_nvhe_.L",
  "__AArch64ADRPThunk_",
  "__ARMV5PILongThunk_",
  "__ARMV7PILongThunk_",
  "__ThumbV7PILongThunk_",
  "__LA25Thunk_",
  "__microLA25Thunk_",
  "__kcfi_typeid_",
  // Older kernels drop these in kallsyms rather than in mksysmap; System.map of 6.1 has none.
  "$",
  ".L",
  "__crc_",
];
const IGNORED_SUFFIXES = ["_from_arm", "_from_thumb", "_veneer"];
const IGNORED_MATCHES = [".long_branch.", ".plt_branch."];
const KEPT_ABSOLUTE = new Set(["__kernel_syscall_via_break", "__kernel_syscall_via_epc", "__kernel_sigtramp", "__gp"]);

/** True when scripts/kallsyms leaves the symbol out of the kernel's table. */
export function kallsymsIgnores(name: string, letter: string): boolean {
  if (IGNORED_NAMES.has(name)) return true;
  if (IGNORED_PREFIXES.some((p) => name.startsWith(p))) return true;
  if (IGNORED_SUFFIXES.some((s) => name.endsWith(s))) return true;
  if (IGNORED_MATCHES.some((s) => name.includes(s))) return true;
  if (letter === "U" || letter === "u" || letter === "N" || letter === "n") return true;
  if (letter.toUpperCase() === "A" && !KEPT_ABSOLUTE.has(name)) return true;
  return false;
}

// scripts/kallsyms.c, may_be_linker_script_provide_symbol.
function linkerProvided(name: string): boolean {
  if (name.length < 8 || !name.startsWith("__")) return false;
  return ["__start_", "__stop_", "__end_"].some((p) => name.startsWith(p)) || name.endsWith("_start") || name.endsWith("_end");
}

/**
 * The kernel's kallsyms table of vmlinux from its System.map: ignored symbols dropped, then sorted
 * by address, strong before weak, non-linker-provided first, fewer leading underscores first, then
 * in System.map order (scripts/kallsyms.c, compare_symbols).
 */
export function kallsymsOrder(entries: MapEntry[]): MapEntry[] {
  const kept = entries.filter((e) => !kallsymsIgnores(e.name, e.letter)).map((e, pos) => ({ e, pos }));
  const weak = (l: string) => (l === "w" || l === "W" ? 1 : 0);
  const underscores = (n: string) => /^_*/.exec(n)![0].length;
  kept.sort((a, b) => {
    if (a.e.address !== b.e.address) return a.e.address < b.e.address ? -1 : 1;
    return (
      weak(a.e.letter) - weak(b.e.letter) ||
      Number(linkerProvided(a.e.name)) - Number(linkerProvided(b.e.name)) ||
      underscores(a.e.name) - underscores(b.e.name) ||
      a.pos - b.pos
    );
  });
  return kept.map((k) => k.e);
}

/**
 * livepatch's sympos of each entry of a kallsyms-ordered table: 0 for a name that occurs once,
 * otherwise its 1-based position among the entries of that name.
 */
export function symposByEntry(ordered: MapEntry[]): number[] {
  const count = new Map<string, number>();
  for (const e of ordered) count.set(e.name, (count.get(e.name) ?? 0) + 1);
  const seen = new Map<string, number>();
  return ordered.map((e) => {
    if (count.get(e.name) === 1) return 0;
    const n = (seen.get(e.name) ?? 0) + 1;
    seen.set(e.name, n);
    return n;
  });
}
