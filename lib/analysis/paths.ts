import { PatchInputError } from "./errors";

/**
 * Turns a file name from a diff header into a path inside the kernel tree, the way
 * `patch -p1` (how kernel patches are applied) would: drop the first component (`a/`, `b/`,
 * `linux-6.1.orig/`). Refuses anything that could write outside the tree.
 */
export function treePath(headerName: string, diffLine?: number): string {
  if (/[\u0000-\u001f\u007f]/.test(headerName)) {
    throw new PatchInputError("invalid_path", `file name ${JSON.stringify(headerName)} contains control characters`, diffLine);
  }
  if (headerName.startsWith("/") || /^[A-Za-z]:[\\/]/.test(headerName) || headerName.startsWith("~")) {
    throw new PatchInputError("absolute_path", `path "${headerName}" is absolute: a patch may only name files inside the kernel tree`, diffLine);
  }
  const parts = headerName.split(/[\\/]+/).filter((p) => p !== "" && p !== ".");
  // Any ".." is refused, not just one that climbs out: kernel paths never need it, and
  // this way no later consumer (a builder applying the diff) has to get normalisation right.
  if (parts.includes("..")) {
    throw new PatchInputError("path_escapes_tree", `path "${headerName}" uses "..": a patch may only name files inside the kernel tree`, diffLine);
  }
  const inTree = parts.length > 1 ? parts.slice(1) : parts;
  if (inTree.length === 0) {
    throw new PatchInputError("invalid_path", `file name ${JSON.stringify(headerName)} names no file`, diffLine);
  }
  return inTree.join("/");
}

/** `/dev/null` stands for "no file" on one side of a created or deleted file. */
export function isDevNull(name: string | undefined): boolean {
  return name === "/dev/null";
}
