import type { BuildRequest } from "@/lib/builds/types";
import type { PatchAnalysis } from "@/lib/analysis/types";

export const PATCH_ID = "6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b";

export function analysis(over: Partial<PatchAnalysis> = {}): PatchAnalysis {
  return {
    verdict: "hot-patchable",
    files: [],
    functions: ["cmdline_proc_show", "proc_cmdline_init"],
    reasons: [],
    stats: { files: 1, hunks: 1, added: 1, removed: 1 },
    ...over,
  };
}

export function request(over: Partial<BuildRequest> = {}): BuildRequest & { lines: string[] } {
  const lines: string[] = [];
  return {
    buildId: "build-1",
    patchId: PATCH_ID,
    kernelRelease: "6.8.0-45-generic",
    diff: "diff --git a/fs/proc/cmdline.c b/fs/proc/cmdline.c\n",
    analysis: analysis(),
    workDir: "/nonexistent",
    signal: new AbortController().signal,
    log: (line) => lines.push(line),
    ...over,
    lines,
  };
}
