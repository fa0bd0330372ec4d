// Findings for files that are not C source: what a change to each kind means for a live patch.
import type { DiffFile } from "./diff";
import { isUserspacePath } from "./file-kind";
import type { FileKind, Finding } from "./types";

export function nonCFindings(file: DiffFile, kind: Exclude<FileKind, "c" | "header">): Finding[] {
  const at = { file: file.path, line: file.hunks[0]?.newStart };
  switch (kind) {
    case "doc":
      return [{ code: "documentation_only", impact: "none", message: `${file.path} is documentation: no effect on the running kernel`, ...at }];
    case "asm":
      // Livepatch redirects a function through its ftrace entry hook, which assembly lacks;
      // kpatch-build does not patch .S files either.
      return [{ code: "assembly_changed", impact: "reboot", message: `${file.path} is assembly: livepatch can only replace C functions (it hooks their ftrace entry), so this change needs a reboot`, ...at }];
    case "build":
      return [
        /Kconfig/.test(file.path)
          ? { code: "kconfig_changed", impact: "review", message: `${file.path} changes configuration options: the running kernel's configuration was fixed when it was built, so a live patch cannot change it`, ...at }
          : { code: "build_file_changed", impact: "review", message: `${file.path} changes how the kernel is built: a live patch carries only changed functions, so check the fix does not depend on this change`, ...at },
      ];
    case "other":
      if (isUserspacePath(file.path)) {
        return [{ code: "userspace_only", impact: "none", message: `${file.path} is userspace code (tools/): not part of the running kernel`, ...at }];
      }
      return [{ code: "non_c_file_changed", impact: "review", message: `${file.path} is not C source: its effect on the running kernel cannot be analysed`, ...at }];
  }
}
