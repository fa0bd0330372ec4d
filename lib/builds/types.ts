// The contract between the build queue (lib/builds/queue.ts) and the builders (lib/builds/builders/*).
import { BUILD_OUTCOME, type BuildOutcome, type BuildReport } from "@/lib/api/schemas";
import type { PatchAnalysis } from "@/lib/analysis/types";
import type { ReplacedFunction } from "./stacking";

export type { BuildReport };

export interface EarlierPatch {
  patchId: string;
  title: string;
  diff: string;
  /** What its build for this release replaces. */
  replaced: ReplacedFunction[];
}

export interface BuildRequest {
  buildId: string;
  patchId: string;
  /** `uname -r` of the kernel the artifact is for. */
  kernelRelease: string;
  /** The unified diff as staged. */
  diff: string;
  analysis: PatchAnalysis;
  /**
   * Patches staged before this one whose builds for this release succeeded and whose diffs change
   * a file this one changes, in staging order: a builder applies them first (the pre-image) and
   * says in its report which it shares a function with (lib/builds/stacking.ts).
   */
  earlier?: EarlierPatch[];
  /** An empty directory this build may use; removed afterwards. */
  workDir: string;
  /** Aborted on timeout or shutdown: stop work, kill child processes. */
  signal: AbortSignal;
  /** One line of build log (streamed to the patch page). */
  log: (line: string) => void;
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

/** How a build ended without a module (lib/api/schemas/patches.ts BuildOutcomeSchema says what each means). */
export type FailureReason = Exclude<BuildOutcome, "built">;

/** The build itself failed (bad patch, compiler error, timeout): recorded, not retried. */
export class BuildFailure extends Error {
  constructor(
    message: string,
    public readonly reason: FailureReason = BUILD_OUTCOME.failed,
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
