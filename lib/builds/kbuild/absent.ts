import path from "node:path";
import type { ReleaseTree } from "@/lib/builds/builders/kbuild";
import { STB, STT, type ElfObject } from "@/lib/livepatch/elf";
import { sectionKind } from "@/lib/livepatch/kernel-object";

/**
 * Why a compiled unit is not part of R, or null when it is: a module R does not ship, or none of
 * its functions in vmlinux (a global by name; a static by name in the same source file, by path
 * where the debug info gives one: many statics share names, and base names, across files).
 */
export async function absentFromRelease(r: Pick<ReleaseTree, "release" | "modulePath" | "vmlinuxSymbols">, file: string, object: string, unit: ElfObject): Promise<string | null> {
  if (object !== "vmlinux") return (await r.modulePath(object)) ? null : `${r.release} ships no module ${object}.ko`;
  const functions = unit.symbols.filter((s) => s.type === STT.FUNC && s.section && sectionKind(s.section) === "text");
  // A file R's config empties (fs/ntfs/usnjrnl.c is all `#ifdef NTFS_RW`) is judged by its variables.
  const variables = unit.symbols.filter((s) => s.type === STT.OBJECT && s.section && sectionKind(s.section) !== "special" && sectionKind(s.section) !== "ignored");
  const defined = functions.length > 0 ? functions : variables;
  if (defined.length === 0) return `it compiles to no code or data with ${r.release}'s config`;
  const table = await r.vmlinuxSymbols();
  const base = path.basename(file);
  const present = defined.some((fn) => table.lookup(fn.name).some((k) => (fn.bind === STB.LOCAL ? k.local && (k.path ? k.path === file : k.file === base) : !k.local)));
  const what = functions.length > 0 ? `functions` : `variables`;
  return present ? null : `none of its ${defined.length} ${defined.length === 1 ? what.slice(0, -1) : what} is in ${r.release}'s vmlinux (its config leaves the file out)`;
}
