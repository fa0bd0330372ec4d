// Unified diff parsing. The `diff` package (jsdiff) does the parsing: it is the most used
// diff library on npm, kept up to date, ships its own types, understands git's dialect
// (`diff --git`, rename/copy, new/deleted file modes, binary markers) and, unlike
// `parse-diff`, checks that every hunk's line counts add up. We add what a kernel patch
// console needs on top: size and binary limits, tree-relative paths, and git's function
// context (the text after the second `@@`), which jsdiff drops.
import { parsePatch as jsdiffParsePatch, type StructuredPatch } from "diff";
import { PatchInputError } from "./errors";
import { isDevNull, treePath } from "./paths";

export const DEFAULT_MAX_PATCH_BYTES = 1024 * 1024;

export interface ParseOptions {
  /** Largest accepted diff in UTF-8 bytes (default 1 MiB). */
  maxBytes?: number;
}

export interface DiffHunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** git's function context after `@@ … @@`: the last line before the hunk that starts a definition. */
  context: string;
  /** Body lines with their ` `, `+`, `-` or `\` prefix. */
  lines: string[];
  /** 1-based line of the `@@` header in the diff text. */
  diffLine: number;
}

export type FileStatus = "modified" | "added" | "deleted" | "renamed" | "copied";

export interface DiffFile {
  /** Path inside the kernel tree (new path; old path for a deleted file). */
  path: string;
  oldPath?: string;
  status: FileStatus;
  hunks: DiffHunk[];
  added: number;
  removed: number;
}

export interface ParsedPatch {
  files: DiffFile[];
}

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$/;

/** Parses and validates a unified diff; throws PatchInputError for anything we refuse. */
export function parsePatch(diffText: string, opts: ParseOptions = {}): ParsedPatch {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_PATCH_BYTES;
  const bytes = Buffer.byteLength(diffText, "utf8");
  if (bytes > maxBytes) {
    throw new PatchInputError("too_large", `the diff is ${bytes} bytes; the limit is ${maxBytes} bytes`);
  }
  if (diffText.trim() === "") throw new PatchInputError("empty", "the diff is empty");

  const text = stripEmailSignature(diffText.replace(/\r\n/g, "\n"));
  const lines = text.split("\n");
  refuseBinary(lines);
  const headers = hunkHeaders(lines);
  if (headers.length === 0 && !lines.some((l) => l.startsWith("diff --git "))) {
    throw new PatchInputError("not_a_diff", "this is not a unified diff: no `@@` hunks and no `diff --git` headers were found");
  }

  let structured: StructuredPatch[];
  try {
    structured = jsdiffParsePatch(text);
  } catch (err) {
    throw translateJsdiffError(err);
  }

  const entries = structured.filter((p) => p.hunks.length > 0 || p.isGit || p.oldFileName !== undefined);
  if (entries.length === 0 || entries.every((p) => p.hunks.length === 0 && !p.isRename && !p.isCopy && !p.isCreate && !p.isDelete)) {
    throw new PatchInputError("not_a_diff", "this is not a unified diff: no `---`/`+++` file headers and `@@` hunks were found");
  }
  const hunkCount = entries.reduce((n, p) => n + p.hunks.length, 0);
  if (hunkCount !== headers.length) {
    // Every `@@` line at the start of a line becomes a hunk in jsdiff; if not, we would pair contexts wrongly.
    throw new PatchInputError("malformed_diff", "the diff's hunk headers could not be read consistently");
  }

  let next = 0;
  const files = entries.map((entry) => {
    const fileHeaders = headers.slice(next, next + entry.hunks.length);
    next += entry.hunks.length;
    return toDiffFile(entry, fileHeaders);
  });
  return { files };
}

interface HunkHeader {
  context: string;
  diffLine: number;
}

function hunkHeaders(lines: string[]): HunkHeader[] {
  const out: HunkHeader[] = [];
  lines.forEach((line, i) => {
    if (!/^@@\s/.test(line)) return;
    const m = HUNK_HEADER.exec(line);
    if (!m) throw new PatchInputError("malformed_diff", `line ${i + 1}: "${line.slice(0, 60)}" is not a hunk header (@@ -l,c +l,c @@)`, i + 1);
    out.push({ context: m[5].trim(), diffLine: i + 1 });
  });
  return out;
}

function refuseBinary(lines: string[]): void {
  const at = lines.findIndex((l) => l === "GIT binary patch" || /^Binary files .* differ$/.test(l));
  if (at >= 0) {
    throw new PatchInputError("binary", `line ${at + 1}: the diff changes a binary file; only text patches to kernel source are accepted`, at + 1);
  }
}

/** `git format-patch` ends a mail with "-- " and git's version; that is not part of the last hunk. */
function stripEmailSignature(text: string): string {
  return text.replace(/\n-- \n\d+\.\d+[^\n]*\n*$/, "\n");
}

function translateJsdiffError(err: unknown): PatchInputError {
  const message = err instanceof Error ? err.message : String(err);
  const line = Number(/line (\d+)/.exec(message)?.[1]) || undefined;
  if (/count did not match|more lines than expected/.test(message)) {
    return new PatchInputError("hunk_mismatch", `hunk at line ${line}: its lines do not add up to the counts in its @@ header`, line);
  }
  if (/contained invalid line (diff |@@|Index:|---|\+\+\+|$)/.test(message)) {
    return new PatchInputError("hunk_mismatch", `hunk at line ${line} ends before the line counts in its @@ header are reached`, line);
  }
  if (/Missing .* file header/.test(message)) {
    return new PatchInputError("missing_file_header", message.replace(/^Missing/, "missing"), line);
  }
  return new PatchInputError("malformed_diff", `the diff does not parse: ${message}`, line);
}

function toDiffFile(entry: StructuredPatch, headers: HunkHeader[]): DiffFile {
  const firstLine = headers[0]?.diffLine;
  if (entry.oldFileName === undefined || entry.newFileName === undefined) {
    throw new PatchInputError("missing_file_header", "a hunk has no `---`/`+++` file header naming the file it changes", firstLine);
  }
  const created = entry.isCreate || isDevNull(entry.oldFileName);
  const deleted = entry.isDelete || isDevNull(entry.newFileName);
  if (created && deleted) throw new PatchInputError("invalid_path", "a file is both created and deleted (/dev/null on both sides)", firstLine);
  const oldPath = created ? undefined : treePath(entry.oldFileName, firstLine);
  const newPath = deleted ? undefined : treePath(entry.newFileName, firstLine);
  const path = (newPath ?? oldPath) as string;
  const status: FileStatus = created ? "added" : deleted ? "deleted" : entry.isCopy ? "copied" : entry.isRename || oldPath !== newPath ? "renamed" : "modified";

  let added = 0;
  let removed = 0;
  let previousEnd = 0;
  const hunks = entry.hunks.map((h, i): DiffHunk => {
    const header = headers[i];
    if ([h.oldStart, h.oldLines, h.newStart, h.newLines].some((n) => !Number.isFinite(n))) {
      throw new PatchInputError("malformed_diff", `line ${header.diffLine}: unreadable hunk header`, header.diffLine);
    }
    // Hunks of one file must go forward and not overlap, or the diff cannot apply.
    if (h.oldStart < previousEnd) {
      throw new PatchInputError("malformed_diff", `line ${header.diffLine}: hunk overlaps or precedes the previous hunk of ${path}`, header.diffLine);
    }
    previousEnd = h.oldStart + h.oldLines;
    for (const l of h.lines) {
      if (l.startsWith("+")) added++;
      else if (l.startsWith("-")) removed++;
    }
    return { ...h, context: header.context, diffLine: header.diffLine };
  });
  return { path, ...(status === "renamed" || status === "copied" ? { oldPath } : {}), status, hunks, added, removed };
}
