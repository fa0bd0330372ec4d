// Applies one file's hunks of a parsed diff to that file's pre-patch text (jsdiff's applyPatch,
// no fuzz: context must match exactly, at the stated line or shifted, as `patch` does). Hunk by
// hunk, so a hunk that does not apply is named.
import { applyPatch, type StructuredPatch } from "diff";
import type { DiffFile } from "@/lib/analysis/diff";

export class HunkDoesNotApply extends Error {
  constructor(
    public readonly file: string,
    public readonly hunk: number,
    public readonly header: string,
  ) {
    super(`hunk ${hunk} of ${file} (${header}) does not apply to this kernel's source: its context or removed lines are not there`);
    this.name = "HunkDoesNotApply";
  }
}

export function applyFileDiff(pre: string, file: DiffFile): string {
  let text = pre;
  let delta = 0;
  file.hunks.forEach((h, i) => {
    const header = `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@${h.context ? ` ${h.context}` : ""}`;
    const patch: StructuredPatch = {
      oldFileName: file.oldPath ?? file.path,
      newFileName: file.path,
      oldHeader: undefined,
      newHeader: undefined,
      hunks: [{ oldStart: h.oldStart + delta, oldLines: h.oldLines, newStart: h.oldStart + delta, newLines: h.newLines, lines: h.lines }],
    };
    const out = applyPatch(text, patch);
    if (out === false) throw new HunkDoesNotApply(file.path, i + 1, header);
    delta += h.newLines - h.oldLines;
    text = out;
  });
  return text;
}

/** The same file diff, undone: applies to the post-patch text and gives back the pre-patch text. */
export function reverseFileDiff(file: DiffFile): DiffFile {
  const flip = (l: string) => (l.startsWith("+") ? `-${l.slice(1)}` : l.startsWith("-") ? `+${l.slice(1)}` : l);
  return {
    ...file,
    added: file.removed,
    removed: file.added,
    hunks: file.hunks.map((h) => ({ ...h, oldStart: h.newStart, oldLines: h.newLines, newStart: h.oldStart, newLines: h.oldLines, lines: h.lines.map(flip) })),
  };
}

/** Whether the patch is already in `text`: its reverse applies (and the forward patch does not). */
export function alreadyApplied(text: string, file: DiffFile): boolean {
  return appliesTo(text, reverseFileDiff(file));
}

/** Whether the file's hunks apply to `text`. */
export function appliesTo(text: string, file: DiffFile): boolean {
  try {
    applyFileDiff(text, file);
    return true;
  } catch (err) {
    if (err instanceof HunkDoesNotApply) return false;
    throw err;
  }
}
