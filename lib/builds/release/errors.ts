// What preparing a kernel release can fail with. Two kinds, because the build queue treats them
// differently (lib/builds/types.ts): a BuildFailure is recorded and not retried, any other error is
// an infrastructure error and the job is retried.
import { BuildFailure } from "@/lib/builds/types";

export type UnavailableKind =
  /** A package R needs is not in the apt sources (or not at R's version). */
  | "no-package"
  /** The per-release directory lacks a file R needs. */
  | "no-file"
  /** What we were given does not belong together (symbols of another build, a version mismatch). */
  | "mismatch"
  /** This machine's compiler or tools would not build R's objects the way R was built. */
  | "toolchain"
  /** Not a release name we can work with. */
  | "bad-release";

/**
 * What R's exact kernel needs cannot be had here. Never answered with a fallback to other source:
 * a build for R is refused, naming what is missing.
 */
export class ReleaseUnavailable extends BuildFailure {
  constructor(
    public readonly release: string,
    public readonly kind: UnavailableKind,
    message: string,
  ) {
    super(message, "refused");
    this.name = "ReleaseUnavailable";
  }
}

/** A preparation step failed (download, extraction, make): infrastructure, worth retrying. */
export class ReleasePreparationFailed extends Error {
  constructor(
    public readonly release: string,
    public readonly step: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ReleasePreparationFailed";
  }
}
