import { describe, expect, it } from "vitest";
import type { BuildOutcome } from "@/lib/api/schemas";
import { skipReasonOf } from "@/lib/builds/outcomes";
import { BuildOutcome as DbBuildOutcome } from "@/lib/generated/prisma/enums";
import { BuildOutcomeSchema } from "@/lib/api/schemas";

describe("skipReasonOf", () => {
  const R = "6.1.0-56-amd64";
  it.each<[BuildOutcome | null, string | null, string]>([
    ["already_fixed", "the patch is in Debian 6.1.192-2's source", `nothing to do: kernel ${R} already has this fix (the patch is in Debian 6.1.192-2's source)`],
    ["not_built", "fs/nfsd/nfs4state.c is not built (CONFIG_NFSD is not set)", `nothing to do: kernel ${R} does not build the patched code (fs/nfsd/nfs4state.c is not built (CONFIG_NFSD is not set))`],
    ["no_change", "the objects compiled before and after the patch are the same", `nothing to do: the patch changes none of kernel ${R}'s code (the objects compiled before and after the patch are the same)`],
    ["refused", "foo changes the layout of struct bar", `the build for ${R} was refused: foo changes the layout of struct bar`],
    ["does_not_compile", "x.c:1: error", `the build for ${R} failed: x.c:1: error`],
    ["timeout", null, `the build for ${R} failed: see its log`],
    // Builds finished before outcomes were recorded.
    [null, "boom", `the build for ${R} failed: boom`],
  ])("%s (%s)", (outcome, error, reason) => {
    expect(skipReasonOf({ kernelRelease: R, outcome, error })).toBe(reason);
  });
});

describe("BuildOutcomeSchema", () => {
  it("is the database's enum, value for value", () => {
    expect(BuildOutcomeSchema.options).toEqual(Object.values(DbBuildOutcome));
    expect(BuildOutcomeSchema.options).toContain("already_fixed");
  });
});
