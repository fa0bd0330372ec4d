import type { DiffHunk } from "./diff";

/** One line of a hunk's pre-image (old file) or post-image (new file). */
export interface ImageLine {
  text: string;
  /** Line number in that file. */
  line: number;
  /** Removed (pre-image) or added (post-image) by the patch, rather than context. */
  changed: boolean;
}

export interface HunkImages {
  pre: ImageLine[];
  post: ImageLine[];
}

/**
 * A diff only shows a few lines of context, so each hunk gives two fragments of source:
 * the old text (context + removed lines) and the new text (context + added lines).
 */
export function hunkImages(hunk: DiffHunk): HunkImages {
  const pre: ImageLine[] = [];
  const post: ImageLine[] = [];
  let oldLine = hunk.oldStart;
  let newLine = hunk.newStart;
  for (const raw of hunk.lines) {
    const op = raw[0] ?? " ";
    const text = raw.slice(1);
    if (op === "\\") continue; // "\ No newline at end of file"
    if (op === " " || raw === "") {
      pre.push({ text, line: oldLine++, changed: false });
      post.push({ text, line: newLine++, changed: false });
    } else if (op === "-") {
      pre.push({ text, line: oldLine++, changed: true });
    } else if (op === "+") {
      post.push({ text, line: newLine++, changed: true });
    }
  }
  return { pre, post };
}
