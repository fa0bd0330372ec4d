// The contract between the build queue (lib/builds/queue.ts) and the builders (lib/builds/builders/*).
import type { PatchAnalysis } from "@/lib/patches/types";

export interface BuildRequest {
  buildId: string;
  patchId: string;
  /** `uname -r` of the kernel the artifact is for. */
  kernelRelease: string;
  /** The unified diff as staged. */
  diff: string;
  analysis: PatchAnalysis;
  /** An empty directory this build may use; removed afterwards. */
  workDir: string;
  /** Aborted on timeout or shutdown: stop work, kill child processes. */
  signal: AbortSignal;
  /** One line of build log (streamed to the patch page). */
  log: (line: string) => void;
}

/** What a build replaced, per release: shown on the patch page and in the API. */
export interface BuildReport {
  /** The exact source the module was built from, e.g. Debian 6.1.192-1 (Linux 6.1.192). */
  source?: string;
  replaced: { object: string; function: string; sympos: number; file: string }[];
  added: { object: string; function: string; file: string }[];
}

export interface BuiltArtifact {
  /** The loadable module (a .ko), or for the simulate builder a JSON description. */
  bytes: Buffer;
  /** The livepatch module's name, e.g. `livepatch_cve_2024_1086` (sysfs directory name). */
  moduleName: string;
  /** File name to offer on download, e.g. `livepatch-6f1a2b.ko`. */
  fileName: string;
  report?: BuildReport;
}

/**
 * How a build ended without a module, as the patch page shows it:
 * - refused: the builder cannot carry the change safely (the reason names the symbol);
 * - not_built: the patched file is not compiled in this release's config: nothing to patch;
 * - does_not_compile: the patched file does not compile on its own (the fix needs more than the diff);
 * - already_fixed: the release's source already has the patch: nothing to do, not a failure;
 * - failed, timeout, bad_output: the build went wrong.
 */
export type FailureReason = "refused" | "not_built" | "does_not_compile" | "already_fixed" | "failed" | "timeout" | "bad_output";

/** The build itself failed (bad patch, compiler error, timeout): recorded, not retried. */
export class BuildFailure extends Error {
  constructor(
    message: string,
    public readonly reason: FailureReason = "failed",
  ) {
    super(message);
    this.name = "BuildFailure";
  }
}

/** Any other error thrown by a builder is an infrastructure error, and the job is retried. */
export interface Builder {
  readonly name: string;
  build(req: BuildRequest): Promise<BuiltArtifact>;
  /**
   * Kernel releases this builder has prepared in its cache (fetched, extracted, configured), so
   * that its worker takes their builds first. Optional: a worker also counts the releases it built
   * for since it started.
   */
  preparedReleases?(): Promise<string[]>;
}
