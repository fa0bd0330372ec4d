import fs from "node:fs/promises";

/** The `code` of a failed system call (ENOENT, EEXIST, …), if the error has one. */
export function errorCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null ? (err as { code?: string }).code : undefined;
}

/** True when a file-system call failed because the path does not exist. */
export function isNotFound(err: unknown): boolean {
  return errorCode(err) === "ENOENT";
}

/** A file's contents, or null when it does not exist; any other failure is thrown. */
export async function readFileIfExists(file: string): Promise<Buffer | null>;
export async function readFileIfExists(file: string, encoding: "utf8"): Promise<string | null>;
export async function readFileIfExists(file: string, encoding?: "utf8"): Promise<Buffer | string | null> {
  try {
    return encoding ? await fs.readFile(file, encoding) : await fs.readFile(file);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}
