// What a finished build that made no module means for a host running its release. Pure: the
// rollout plan and the rollout engine both say it (lib/rollouts/plan.ts, lib/rollouts/engine.ts).
import type { BuildOutcome } from "@/lib/api/schemas";

/** Why a host of `kernelRelease` is skipped when its build ended without a module. */
export function skipReasonOf(b: { kernelRelease: string; outcome: BuildOutcome | null; error: string | null }): string {
  const why = b.error ?? "see its log";
  switch (b.outcome) {
    case "already_fixed":
      return `nothing to do: kernel ${b.kernelRelease} already has this fix (${why})`;
    case "no_change":
      return `nothing to do: the patch changes none of kernel ${b.kernelRelease}'s code (${why})`;
    case "not_built":
      return `nothing to do: kernel ${b.kernelRelease} does not build the patched code (${why})`;
    case "refused":
      return `the build for ${b.kernelRelease} was refused: ${why}`;
    default:
      return `the build for ${b.kernelRelease} failed: ${why}`;
  }
}
