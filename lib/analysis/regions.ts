// Splits a hunk fragment into top-level regions: one per definition (function, struct,
// variable, macro…). Fragments start and end mid-definition, where a C parser only sees
// noise, so boundaries come from kernel coding style (enforced by checkpatch): a
// definition starts with a line at column 0, its body is indented, and only its closing
// brace returns to column 0. Column-0 labels and preprocessor lines do not end a body.
// What each region *is* is then decided by tree-sitter (see constructs.ts).
import { braceDelta, codeLines, parenDelta } from "./c-lexical";
import { continuesIntoHunk, LABEL, type HunkContext } from "./hunk-context";
import type { ImageLine } from "./hunk-images";

export interface Region {
  /** Indexes into the fragment of this region's lines, in order. */
  lines: number[];
  /**
   * Indexes of the lines that form the header (up to the `{` or `;`). When fromContext, the lines
   * that complete the header the context begins (a return type on its own line, parameters that
   * run on), usually none.
   */
  header: number[];
  /** The region began before the hunk; git's function context stands in for (the start of) its header. */
  fromContext: boolean;
  /** Kind known from the first line alone. */
  preprocessor?: "define" | "include" | "conditional";
}

export interface FragmentLayout {
  regions: Region[];
  /** Code of each line with comments and string contents removed. */
  code: string[];
  /** Code of each line with comments removed and string literals kept: what the compiler sees. */
  codeWithLiterals: string[];
  /** Region index of each line (-1: blank line or comment between definitions). */
  regionOf: number[];
}

export function layoutFragment(fragment: ImageLine[], context: HunkContext): FragmentLayout {
  const texts = fragment.map((l) => l.text);
  const code = codeLines(texts);
  const codeWithLiterals = codeLines(texts, { keepLiterals: true });
  const regions: Region[] = [];
  const regionOf: number[] = new Array(fragment.length).fill(-1);
  let current: (Region & { inHeader: boolean; depth: number; opened: boolean }) | undefined;

  // The hunk starts inside the definition git named (or inside a function, after a goto label),
  // unless that was a complete one-liner; maybe still inside its header.
  if (context.kind === "label" || context.kind === "open") {
    const inHeader = context.kind === "open" && continuesIntoHunk(context, code, texts);
    current = { lines: [], header: [], fromContext: true, inHeader, depth: inHeader ? 0 : 1, opened: false };
    regions.push(current);
  }
  const start = (extra: Partial<Region> = {}, withHeader = true) => {
    current = { lines: [], header: [], fromContext: false, inHeader: withHeader, depth: 0, opened: !withHeader, ...extra };
    regions.push(current);
    return regions.length - 1;
  };
  const add = (i: number) => {
    if (!current) return;
    current.lines.push(i);
    regionOf[i] = regions.indexOf(current);
  };

  for (let i = 0; i < fragment.length; i++) {
    const raw = fragment[i].text;
    const c = code[i];
    if (c.trim() === "") {
      add(i); // blank or comment: belongs to whatever surrounds it
      continue;
    }
    if (/^\s*#/.test(c)) {
      const directive = /^\s*#\s*(\w+)/.exec(c)?.[1] ?? "";
      if (directive === "define" || directive === "undef" || directive === "include") {
        const saved = current;
        const r = start({ preprocessor: directive === "include" ? "include" : "define" });
        const region = regions[r];
        // A macro runs on while its lines end in a backslash.
        let j = i;
        for (;;) {
          region.lines.push(j);
          region.header.push(j);
          regionOf[j] = r;
          if (!/\\\s*$/.test(fragment[j].text) || j + 1 >= fragment.length) break;
          j++;
        }
        i = j;
        current = saved && !saved.inHeader ? saved : undefined; // resume the body the macro sat in
        continue;
      }
      if (current && !current.inHeader) {
        add(i);
      } else {
        const saved = current;
        const r = start({ preprocessor: "conditional" });
        regions[r].lines.push(i);
        regions[r].header.push(i);
        regionOf[i] = r;
        current = saved;
      }
      continue;
    }
    const atColumn0 = /^[A-Za-z_]/.test(raw);
    if (/^}(?!\s*,)/.test(raw)) {
      // Only a definition's closing brace sits at column 0 (`},` ends an element of a table
      // written at column 0). With nothing open, it closes something that began before the
      // hunk with no context to name it.
      if (current) add(i);
      else start({}, false);
      current = undefined;
      continue;
    }
    if (atColumn0 && !LABEL.test(c) && !(current?.inHeader ?? false)) start();
    if (!current) start({}, false); // indented code with nothing open: a region of unknown kind
    add(i);
    const region = current as NonNullable<typeof current>;
    if (region.inHeader) region.header.push(i);
    trackEnd(region, c);
    if (region.inHeader && region.header.length === 1 && wholeMacroLine(code, texts, i)) {
      region.inHeader = false; // `DEFINE_FREE(…)`: a definition in one line, with no `;`
      region.opened = true;
    }
    if (region.opened && region.depth <= 0 && region.header.length > 0) current = undefined;
  }
  return { regions, code, codeWithLiterals, regionOf };
}

/**
 * A column-0 macro invocation that is complete on its line without a `;` (DEFINE_FREE,
 * DEFINE_GUARD): its parentheses close, and no `{` follows to make it a function header
 * (as after BPF_CALL_2(…) or SYSCALL_DEFINE0(…)).
 */
function wholeMacroLine(code: string[], raw: string[], i: number): boolean {
  if (!/^[A-Z][A-Z0-9_]*\s*\(/.test(raw[i]) || /[;{]/.test(code[i]) || parenDelta(code[i]) !== 0) return false;
  const next = code.findIndex((c, j) => j > i && c.trim() !== "");
  return next > i && !/^\{/.test(raw[next]);
}

/** Follows a region's header to its `{` (a body follows) or `;` (complete declaration). */
function trackEnd(region: Region & { inHeader: boolean; depth: number; opened: boolean }, code: string): void {
  if (!region.inHeader) {
    region.depth += braceDelta(code);
    return;
  }
  let parens = 0;
  for (const ch of code) {
    if (ch === "(") parens++;
    else if (ch === ")") parens--;
    else if (ch === "{" && parens <= 0) {
      region.depth++;
      region.opened = true;
      region.inHeader = false;
    } else if (ch === "}") region.depth--;
    else if (ch === ";" && parens <= 0 && region.depth <= 0) {
      region.inHeader = false;
      region.opened = true; // complete: the region ends here
      region.depth = 0;
      return;
    }
  }
}
