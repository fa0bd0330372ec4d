import type { FileKind } from "./types";

const BUILD_NAMES = /^(Makefile|Kbuild|Kconfig(\..*)?|Makefile\..*|.*\.mk)$/;
const DOC_EXT = /\.(rst|txt|md|html|svg|dot)$/i;
const DOC_NAMES = /^(README|MAINTAINERS|CREDITS|COPYING|\.mailmap)$/;

/** Classifies a file of the kernel tree by its path: what kind of change it can be. */
export function fileKind(path: string): FileKind {
  const name = path.slice(path.lastIndexOf("/") + 1);
  if (path.startsWith("Documentation/") || DOC_NAMES.test(name) || DOC_EXT.test(name)) return "doc";
  if (BUILD_NAMES.test(name) || path.startsWith("scripts/")) return "build";
  if (path.startsWith("tools/")) return "other"; // userspace: perf, bpftool, selftests
  if (/\.h$/.test(name)) return "header";
  if (/\.c$/.test(name)) return "c";
  if (/\.S$/.test(name)) return "asm";
  return "other";
}

/** Userspace code in the kernel tree: it is never part of the running kernel. */
export function isUserspacePath(path: string): boolean {
  return path.startsWith("tools/");
}
