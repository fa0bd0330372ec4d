// The analysis result. It is returned by the API and shown on the patch page, so its shape
// is part of the contract: add fields, do not rename them.

export type Verdict = "hot-patchable" | "needs-review" | "requires-reboot";

/** What a finding does to the verdict: nothing (a note), needs a person, or rules out a live patch. */
export type Impact = "none" | "review" | "reboot";

export type FileKind = "c" | "header" | "asm" | "build" | "doc" | "other";

export type FunctionChange = "modified" | "added" | "removed";

export interface Finding {
  /** Stable machine code, e.g. "struct_field_added". */
  code: string;
  impact: Impact;
  /** One sentence for a person, naming the symbol and why it matters. */
  message: string;
  /** Absent for findings about the patch as a whole. */
  file?: string;
  /** Line in the new file (old file for removed code). */
  line?: number;
  symbol?: string;
}

export interface ChangedFunction {
  name: string;
  change: FunctionChange;
  /** First changed line: in the new file, or in the old file for a removed function. */
  line: number;
}

export interface FileAnalysis {
  path: string;
  /** Set when git renamed or copied the file. */
  oldPath?: string;
  status: "modified" | "added" | "deleted" | "renamed" | "copied";
  kind: FileKind;
  added: number;
  removed: number;
  functions: ChangedFunction[];
  findings: Finding[];
}

export interface PatchAnalysis {
  verdict: Verdict;
  files: FileAnalysis[];
  /** Every changed function name (modified, added or removed), unique, in patch order. */
  functions: string[];
  /** The findings that decide the verdict (impact review or reboot), worst first. */
  reasons: Finding[];
  stats: { files: number; hunks: number; added: number; removed: number };
  /**
   * What a builder found it cannot do, per kernel release, once it tried (e.g. the kbuild builder:
   * a changed function uses a symbol the kernel does not export to modules). Written by the build
   * (lib/builds/run.ts), removed when a later build of that release succeeds.
   */
  builderRefusals?: Record<string, { builder: string; message: string }>;
}
