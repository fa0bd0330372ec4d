import { BadRequestError } from "@/lib/errors";

/** Why a submitted diff was refused. Stable strings: the API returns them as `code`. */
export type PatchInputErrorCode =
  | "empty"
  | "too_large"
  | "not_a_diff"
  | "binary"
  | "absolute_path"
  | "path_escapes_tree"
  | "invalid_path"
  | "missing_file_header"
  | "malformed_diff"
  | "hunk_mismatch";

/**
 * Bad input: the diff is refused as a whole and nothing about it is analysed or stored.
 * A BadRequestError, so the HTTP layer answers 400 with this `code` and message.
 */
export class PatchInputError extends BadRequestError {
  declare readonly code: PatchInputErrorCode;
  constructor(
    code: PatchInputErrorCode,
    message: string,
    /** 1-based line of the diff text where the problem is, when known. */
    public readonly line?: number,
  ) {
    super(message, code);
  }
}
