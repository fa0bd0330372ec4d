// Analyses one C source or header file of a patch: which functions change and which
// changes touch data (types, globals) that a live patch cannot change.
import { codeLines, normaliseCode, parenDelta } from "./c-lexical";
import { cParser } from "./c-parser";
import { classifyHeader, type Construct } from "./constructs";
import { dataFindings } from "./data-findings";
import type { DiffFile } from "./diff";
import { functionFindings } from "./function-findings";
import { readContext, type HunkContext } from "./hunk-context";
import { hunkImages, type HunkImages, type ImageLine } from "./hunk-images";
import { layoutFragment, type FragmentLayout, type Region } from "./regions";
import type { ChangedFunction, Finding, FunctionChange } from "./types";

/** One definition as seen in one side (old or new) of a hunk. */
export interface Side {
  construct: Construct;
  region: Region;
  layout: FragmentLayout;
  image: ImageLine[];
  /** Header code used to classify it (starting with git's context line when the region began before the hunk). */
  headerCode: string;
  /** Indexes of changed lines of code (blank and comment-only lines are left out). */
  changed: number[];
}

/** A definition touched by a hunk, with its old and new side when each exists. */
export interface Touched {
  key: string;
  pre?: Side;
  post?: Side;
  change: FunctionChange;
  /** First changed line (new file, or old file when only the old side changed). */
  line: number;
}

export interface FileContext {
  path: string;
  isHeader: boolean;
}

export interface CFileResult {
  functions: ChangedFunction[];
  findings: Finding[];
}

export async function analyseCFile(file: DiffFile, isHeader: boolean): Promise<CFileResult> {
  const parser = await cParser();
  const ctx: FileContext = { path: file.path, isHeader };
  const findings: Finding[] = [];
  const functionTouches: Touched[] = [];
  // Hunks of one function share its header (and both sides of a hunk share the context): classify each text once.
  const classified = new Map<string, Construct>();
  const classify = (header: string) => {
    let c = classified.get(header);
    if (!c) classified.set(header, (c = classifyHeader(parser, header)));
    return c;
  };

  const images = file.hunks.map(hunkImages);
  file.hunks.forEach((hunk, index) => {
    const { pre, post } = images[index];
    const context = contextOf(hunk.context, hunk.oldStart, images.slice(0, index));
    const preSides = sidesOf(classify, pre, context);
    const postSides = sidesOf(classify, post, context);
    if (onlyCommentsOrWhitespace(preSides.layout, postSides.layout)) {
      findings.push({
        code: "comment_only",
        impact: "none",
        message: `the hunk at line ${hunk.newStart} changes only comments or whitespace: no effect on the compiled code`,
        file: file.path,
        line: hunk.newStart,
      });
      return;
    }
    for (const touched of matchSides(preSides.sides, postSides.sides)) {
      if (constructOf(touched).kind === "function") functionTouches.push(touched);
      else findings.push(...dataFindings(parser, touched, ctx));
    }
  });

  const functions = new Map<string, ChangedFunction>();
  for (const fn of mergeMoves(functionTouches)) {
    const name = constructOf(fn).name;
    if (!functions.has(name)) functions.set(name, { name, change: fn.change, line: fn.line });
    findings.push(...functionFindings(fn, ctx));
  }
  // In file order, so a reader can follow them down the diff.
  return { functions: [...functions.values()], findings: dedupe(findings).sort((a, b) => (a.line ?? 0) - (b.line ?? 0)) };
}

/** A function moved within the file shows up as removed in one hunk and added in another: it was modified. */
function mergeMoves(touches: Touched[]): Touched[] {
  const out: Touched[] = [];
  for (const t of touches) {
    const opposite = t.change === "added" ? "removed" : t.change === "removed" ? "added" : undefined;
    const partner = opposite && out.find((o) => o.key === t.key && o.change === opposite);
    if (!partner) {
      out.push(t);
      continue;
    }
    const added = t.change === "added" ? t : partner;
    const removed = t.change === "added" ? partner : t;
    out[out.indexOf(partner)] = { ...added, change: "modified", pre: removed.pre, post: added.post };
  }
  return out;
}

/** The definition as it is after the patch (before it, if the patch removes it). */
export function constructOf(t: Touched): Construct {
  return ((t.post ?? t.pre) as Side).construct;
}

/**
 * git's function context of a hunk, read. One that may have been cut short is looked up among the
 * old-file lines that earlier hunks show: git and diff take the context from the old file, so if
 * the last column-0 line shown above the hunk starts with the context, that is the line they cut
 * (with the lines that complete its header). Otherwise the cut text stays as it is, marked cut.
 */
function contextOf(context: string, oldStart: number, earlier: HunkImages[]): HunkContext {
  const read = readContext(context);
  if (read.kind !== "open" || !read.cut) return read;
  const lines = earlier.flatMap((images) => images.pre);
  const last = lines.findLastIndex((l) => l.line < oldStart && /^[A-Za-z_$]/.test(l.text));
  if (last < 0 || !lines[last].text.startsWith(context)) return read;
  if (lines[last].text.trimEnd() === context) return readContext(context, true); // it was whole after all
  const header = [lines[last].text];
  // Parameters that run on: the next lines of the same hunk, up to the closing parenthesis.
  for (let i = last + 1, open = parenDelta(codeLines(header)[0]); open > 0 && i < lines.length && lines[i].line === lines[i - 1].line + 1 && header.length < 12; i++) {
    header.push(lines[i].text);
    open += parenDelta(codeLines([lines[i].text])[0]);
  }
  return readContext(header.join("\n"), true);
}

function sidesOf(classify: (header: string) => Construct, image: ImageLine[], context: HunkContext): { layout: FragmentLayout; sides: Side[] } {
  const layout = layoutFragment(image, context);
  const sides = layout.regions.map((region): Side => {
    const headerLines = region.header.map((i) => (region.preprocessor ? layout.codeWithLiterals[i] : layout.code[i]));
    const contextCode = region.fromContext && context.kind === "open" ? context.code : undefined;
    const headerCode = [...(contextCode !== undefined ? [contextCode] : []), ...headerLines].join("\n");
    let construct: Construct;
    if (region.fromContext && context.kind === "label") {
      construct = { kind: "unknown", name: context.label, why: "label" };
    } else if (contextCode !== undefined && context.kind === "open" && context.cut) {
      construct = fromCutContext(classify, contextCode, headerLines, context.text);
    } else if (region.header.length === 0 && !region.fromContext) {
      construct = { kind: "unknown", name: "" }; // indented code with no header or context to name it
    } else {
      construct = classify(headerCode);
    }
    if (construct.kind === "unknown") construct = exportedAfter(layout, region) ?? construct;
    const changed = region.lines.filter((i) => image[i].changed && layout.code[i].trim() !== "");
    return { construct, region, layout, image, headerCode, changed };
  });
  return { layout, sides };
}

/**
 * A definition whose header git cut short. Its name is trusted only if it does not depend on the
 * cut: `static int ext4_mb_get_buddy_page_lock(s` names its function, `static void run_timer_s`
 * does not (run_timer_softirq). A last word that may be cut (`(struct` of `(struct super_block`)
 * is dropped first. The parameter list may be incomplete, so the signature is dropped.
 */
function fromCutContext(classify: (header: string) => Construct, contextCode: string, headerLines: string[], text: string): Construct {
  const read = (context: string) => classify([context, ...headerLines].join("\n"));
  const trusted = (c: Construct): Construct => (c.kind === "function" ? { ...c, signature: undefined } : c);
  const lastWord = /\w+$/.exec(contextCode);
  if (!lastWord) {
    // It ends in punctuation (`(`, `,`, `*`): every word in it is whole.
    const construct = read(contextCode);
    return construct.kind === "unknown" ? { kind: "unknown", name: text, why: "cut" } : trusted(construct);
  }
  for (const context of [contextCode, contextCode.slice(0, lastWord.index)]) {
    const construct = read(context);
    const longer = read(`${context}x`);
    if (construct.kind !== "unknown" && longer.kind === construct.kind && longer.name === construct.name) return trusted(construct);
  }
  return { kind: "unknown", name: text, why: "cut" };
}

/**
 * Kernel style puts EXPORT_SYMBOL(fn) on the line after fn's closing brace: a body whose header
 * the hunk does not show is named by it.
 */
function exportedAfter(layout: FragmentLayout, region: Region): Construct | undefined {
  const last = region.lines.findLast((i) => layout.code[i].trim() !== "");
  if (last === undefined || !/^}\s*$/.test(layout.code[last])) return undefined;
  const next = layout.code.findIndex((c, i) => i > last && c.trim() !== "");
  const exported = next > last ? /^EXPORT_SYMBOL\w*\s*\(\s*(\w+)\s*\)/.exec(layout.code[next]) : null;
  return exported ? { kind: "function", name: exported[1], isStatic: false, isInline: false } : undefined;
}

function onlyCommentsOrWhitespace(pre: FragmentLayout, post: FragmentLayout): boolean {
  return normaliseCode(pre.codeWithLiterals.join(" ")) === normaliseCode(post.codeWithLiterals.join(" "));
}

function keyOf(c: Construct): string {
  return `${c.kind}:${c.name}`;
}

/** Pairs each touched definition's old side with its new side, and says what happened to it. */
function matchSides(pre: Side[], post: Side[]): Touched[] {
  const byKey = new Map<string, { pre?: Side; post?: Side }>();
  const put = (side: Side, which: "pre" | "post") => {
    const key = keyOf(side.construct);
    const entry = byKey.get(key) ?? {};
    // Keep the side that changed if a name shows up twice in one fragment.
    if (!entry[which] || (entry[which].changed.length === 0 && side.changed.length > 0)) entry[which] = side;
    byKey.set(key, entry);
  };
  pre.forEach((s) => put(s, "pre"));
  post.forEach((s) => put(s, "post"));

  const out: Touched[] = [];
  for (const [key, entry] of byKey) {
    const changedPre = entry.pre?.changed.length ?? 0;
    const changedPost = entry.post?.changed.length ?? 0;
    if (changedPre === 0 && changedPost === 0) continue;
    const change: FunctionChange = !entry.pre ? (headerAllChanged(entry.post) ? "added" : "modified") : !entry.post ? (headerAllChanged(entry.pre) ? "removed" : "modified") : "modified";
    const line =
      entry.post && changedPost > 0
        ? entry.post.image[entry.post.changed[0]].line
        : (entry.pre as Side).image[(entry.pre as Side).changed[0]].line;
    out.push({ key, ...entry, change, line });
  }
  return out.sort((a, b) => a.line - b.line);
}

/** A definition whose header lines were all added (or all removed) is new (or gone). */
function headerAllChanged(side: Side | undefined): boolean {
  if (!side || side.region.fromContext) return false;
  const codeLines = side.region.header.filter((i) => side.layout.code[i].trim() !== "");
  return codeLines.length > 0 && codeLines.every((i) => side.image[i].changed);
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.code}|${f.symbol ?? ""}|${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
