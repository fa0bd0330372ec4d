// What a hunk's function context (the text after the second `@@`) says about where the hunk
// starts. git and GNU `diff -p` both take the last line before the hunk that begins at column 0
// with a letter, `_` or `$` (git's default; the kernel's `diff=cpp` attribute narrows it), and
// cut it: diff -p to 40 bytes, git to 80, both then dropping trailing blanks. So the context can
// be a goto label, a return type whose function name is on the next line, the first line of a
// parameter list that runs on, or a header cut off mid-name: evidence to read, not a name to copy.
import { braceDelta, codeLines, parenDelta } from "./c-lexical";

/** A goto label at column 0, comments removed: `out:`, `err_free: ;`. Never a definition. */
export const LABEL = /^[A-Za-z_]\w*\s*:(?!:)\s*;?\s*$/;

export type HunkContext =
  | { kind: "none" }
  /** A goto label: the hunk is inside a function that the context does not name. */
  | { kind: "label"; label: string }
  /** A complete one-line declaration (or one-line definition): the hunk starts after it. */
  | { kind: "closed"; text: string }
  /**
   * The first line(s) of the definition the hunk starts in. `code` has comments removed;
   * `cut` when git or diff may have shortened it, so that its end is not to be trusted.
   */
  | { kind: "open"; text: string; code: string; cut: boolean };

/** The limits git (80) and GNU diff -p (40) cut a function context to, in bytes. */
const CUT_LIMITS = [40, 80];

/**
 * Whether a context may have been cut short: its length is at a limit, or up to two bytes
 * under it (the trailing blanks the tools drop after cutting).
 */
export function mayBeCut(context: string): boolean {
  const bytes = new TextEncoder().encode(context).length;
  return CUT_LIMITS.some((limit) => bytes <= limit && bytes >= limit - 2);
}

/** Reads a context; `whole` when the text is known to be the full line (found in the diff itself). */
export function readContext(text: string, whole = false): HunkContext {
  const raw = text.trim();
  if (raw === "") return { kind: "none" };
  const code = codeLines(raw.split("\n")).join("\n").trim();
  if (LABEL.test(code)) return { kind: "label", label: code.replace(/\s*:.*$/, "") };
  const cut = !whole && mayBeCut(raw);
  // A declaration or one-line definition that ends on its line: the hunk is after it.
  if (/;\s*$/.test(code) || (/}\s*$/.test(code) && braceDelta(code) === 0)) return { kind: "closed", text: raw };
  return { kind: "open", text: raw, code, cut };
}

/**
 * Whether the hunk starts inside the header that the context line begins, so that its first
 * lines complete it: after a return type on a line of its own (`__be32` then
 * `nfsd4_sequence(struct svc_rqst *rqstp, …`), or inside a parameter list that runs over several
 * lines. Kernel style makes this checkable: the declarator line after a return type starts at
 * column 0, and a function's `{` sits alone at column 0; code in a body never does either.
 */
export function continuesIntoHunk(context: Extract<HunkContext, { kind: "open" }>, code: string[], raw: string[]): boolean {
  const header = context.code;
  // A cut line's parentheses cannot be counted; its name line, if any, reads well enough alone.
  if (context.cut || /[{};=]/.test(header)) return false; // a body or an initializer is already open: the hunk is inside it
  let depth = parenDelta(header);
  if (depth < 0) return false;
  const typeOnly = !/[([]/.test(header); // `__be32`, `static int`, `struct fwnode_handle *`
  if (!typeOnly && depth === 0) return false; // a whole header line: the hunk starts at its `{` or in its body
  let first = true;
  let assigned = false;
  for (let i = 0; i < code.length && i < 16; i++) {
    const line = code[i];
    if (line.trim() === "") continue;
    if (first && typeOnly) {
      if (!/^\**\s*[A-Za-z_]\w*\s*[([]/.test(raw[i]) || LABEL.test(line)) return false;
    } else if (/^[^\s{]/.test(raw[i])) {
      return false; // a new top-level line: the header ended before the hunk
    }
    first = false;
    for (const ch of line) {
      if (ch === "(") depth++;
      else if (ch === ")" && --depth < 0) return false;
      else if (ch === "=" && depth === 0) assigned = true;
      else if (ch === "{") return depth === 0 && (assigned || /^\{/.test(raw[i]));
      else if (ch === ";") {
        // A prototype ends here and is followed by a declaration at column 0; inside a body the
        // only column-0 lines are labels, preprocessor lines and the closing brace.
        if (depth !== 0) return false;
        const next = code.findIndex((c, j) => j > i && c.trim() !== "");
        return next > i && /^[A-Za-z_]/.test(raw[next]) && !LABEL.test(code[next]);
      }
    }
  }
  return false;
}
