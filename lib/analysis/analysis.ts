// The hot-patchability analysis of a kernel patch (Ksplice's rule: a live patch may change
// code, but not the layout or meaning of data that already exists in the running kernel).
// Pure: text in, plain data out; no database, no I/O beyond loading the C grammar once.
import { analyseCFile } from "./c-file";
import { parsePatch, type DiffFile, type ParseOptions } from "./diff";
import { fileKind } from "./file-kind";
import { nonCFindings } from "./non-c-file";
import type { FileAnalysis, Finding, Impact, PatchAnalysis, Verdict } from "./types";

export type { ChangedFunction, FileAnalysis, FileKind, Finding, FunctionChange, Impact, PatchAnalysis, Verdict } from "./types";
export { parsePatch, type ParsedPatch, type ParseOptions } from "./diff";
export { PatchInputError, type PatchInputErrorCode } from "./errors";

export type AnalyseOptions = ParseOptions;

const IMPACT_RANK: Record<Impact, number> = { none: 0, review: 1, reboot: 2 };

/** Parses a unified diff and decides whether it can be applied as a live patch. Throws PatchInputError on bad input. */
export async function analysePatch(diffText: string, opts: AnalyseOptions = {}): Promise<PatchAnalysis> {
  const parsed = parsePatch(diffText, opts);
  const files: FileAnalysis[] = [];
  for (const file of parsed.files) files.push(await analyseFile(file));

  const functions = [...new Set(files.flatMap((f) => f.functions.map((fn) => fn.name)))];
  const findings = files.flatMap((f) => f.findings);
  const worst = Math.max(0, ...findings.map((f) => IMPACT_RANK[f.impact]));
  const unread = findings.some((f) => f.code === "unrecognised_change");
  if (worst < IMPACT_RANK.reboot && !unread && !files.some((f) => f.functions.length > 0)) {
    // Nothing for a live patch to replace: building one would load a module that does nothing.
    // (Not said when a change could not be read: it may well be in a function.)
    findings.push({
      code: "no_function_changes",
      impact: "review",
      message: "the patch changes no kernel function, so a live patch would have nothing to replace",
    });
  }
  const reasons = findings
    .filter((f) => f.impact !== "none")
    .sort((a, b) => IMPACT_RANK[b.impact] - IMPACT_RANK[a.impact]);
  return {
    verdict: verdictOf(reasons),
    files,
    functions,
    reasons,
    stats: {
      files: files.length,
      hunks: parsed.files.reduce((n, f) => n + f.hunks.length, 0),
      added: files.reduce((n, f) => n + f.added, 0),
      removed: files.reduce((n, f) => n + f.removed, 0),
    },
  };
}

function verdictOf(reasons: Finding[]): Verdict {
  if (reasons.some((r) => r.impact === "reboot")) return "requires-reboot";
  if (reasons.some((r) => r.impact === "review")) return "needs-review";
  return "hot-patchable";
}

async function analyseFile(file: DiffFile): Promise<FileAnalysis> {
  const kind = fileKind(file.path);
  const base = {
    path: file.path,
    ...(file.oldPath !== undefined ? { oldPath: file.oldPath } : {}),
    status: file.status,
    kind,
    added: file.added,
    removed: file.removed,
  };
  const notes = fileNotes(file);
  if (kind === "c" || kind === "header") {
    const { functions, findings } = await analyseCFile(file, kind === "header");
    return { ...base, functions, findings: [...notes, ...findings] };
  }
  return { ...base, functions: [], findings: [...notes, ...(file.hunks.length > 0 || file.status !== "renamed" ? nonCFindings(file, kind) : [])] };
}

/** Notes about the file as a whole: renames and copies. */
function fileNotes(file: DiffFile): Finding[] {
  if (file.status !== "renamed" && file.status !== "copied") return [];
  const verb = file.status === "renamed" ? "renamed" : "copied";
  const content = file.hunks.length === 0 ? "; its content is unchanged" : "";
  return [{ code: `file_${verb}`, impact: "none", message: `${file.oldPath} is ${verb} to ${file.path}${content}`, file: file.path }];
}
