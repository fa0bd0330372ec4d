// Analyses one C source or header file of a patch: which functions change and which
// changes touch data (types, globals) that a live patch cannot change.
import type { Parser } from "web-tree-sitter";
import { normaliseCode } from "./c-lexical";
import { cParser } from "./c-parser";
import { classifyHeader, type Construct } from "./constructs";
import { dataFindings } from "./data-findings";
import type { DiffFile } from "./diff";
import { functionFindings } from "./function-findings";
import { hunkImages, type ImageLine } from "./hunk-images";
import { layoutFragment, type FragmentLayout, type Region } from "./regions";
import type { ChangedFunction, Finding, FunctionChange } from "./types";

/** One definition as seen in one side (old or new) of a hunk. */
export interface Side {
  construct: Construct;
  region: Region;
  layout: FragmentLayout;
  image: ImageLine[];
  /** Header code used to classify it (git's context line when the region began before the hunk). */
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
  const functions = new Map<string, ChangedFunction>();
  const findings: Finding[] = [];
  const removedOrAdded = new Map<string, Touched>();

  for (const hunk of file.hunks) {
    const { pre, post } = hunkImages(hunk);
    const preSides = sidesOf(parser, pre, hunk.context);
    const postSides = sidesOf(parser, post, hunk.context);
    if (onlyCommentsOrWhitespace(preSides.layout, postSides.layout)) {
      findings.push({
        code: "comment_only",
        impact: "none",
        message: `the hunk at line ${hunk.newStart} changes only comments or whitespace: no effect on the compiled code`,
        file: file.path,
        line: hunk.newStart,
      });
      continue;
    }
    for (const touched of matchSides(preSides.sides, postSides.sides)) {
      if (constructOf(touched).kind === "function") {
        const fn = touched;
        // A function moved between hunks shows up as removed in one and added in another.
        const earlier = removedOrAdded.get(fn.key);
        if (earlier && earlier.change !== fn.change && fn.change !== "modified") {
          const merged: Touched = { ...fn, change: "modified", pre: earlier.pre ?? fn.pre, post: earlier.post ?? fn.post, line: earlier.post ? earlier.line : fn.line };
          removedOrAdded.delete(fn.key);
          functions.set(nameOf(merged), { name: nameOf(merged), change: "modified", line: merged.line });
          findings.push(...functionFindings(merged, ctx));
          continue;
        }
        if (fn.change !== "modified") removedOrAdded.set(fn.key, fn);
        const name = nameOf(fn);
        if (!functions.has(name)) functions.set(name, { name, change: fn.change, line: fn.line });
        findings.push(...functionFindings(fn, ctx));
      } else {
        findings.push(...dataFindings(parser, touched, ctx));
      }
    }
  }
  return { functions: [...functions.values()], findings: dedupe(findings) };
}

/** The definition as it is after the patch (before it, if the patch removes it). */
export function constructOf(t: Touched): Construct {
  return ((t.post ?? t.pre) as Side).construct;
}

function nameOf(t: Touched): string {
  return constructOf(t).name;
}

function sidesOf(parser: Parser, image: ImageLine[], context: string): { layout: FragmentLayout; sides: Side[] } {
  const layout = layoutFragment(image, context);
  const sides = layout.regions.map((region): Side => {
    const headerCode = region.fromContext ? context : region.header.map((i) => layout.code[i]).join("\n");
    const construct: Construct =
      region.header.length === 0 && !region.fromContext
        ? { kind: "unknown", name: image[region.lines[0]]?.text.trim().slice(0, 60) ?? "" }
        : classifyHeader(parser, headerCode);
    const changed = region.lines.filter((i) => image[i].changed && layout.code[i].trim() !== "");
    return { construct, region, layout, image, headerCode, changed };
  });
  return { layout, sides };
}

function onlyCommentsOrWhitespace(pre: FragmentLayout, post: FragmentLayout): boolean {
  return normaliseCode(pre.code.join(" ")) === normaliseCode(post.code.join(" "));
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
