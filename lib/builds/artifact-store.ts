import "server-only";
// Content-addressed artifact storage: `<dataDir>/artifacts/<sha256[0:2]>/<sha256>`. A file's name
// is the sha256 of its content, so storing the same bytes twice is a no-op and a file whose
// content no longer matches its name has been altered on disk (refused on read).
import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { readFileIfExists } from "@/lib/files";
import { writeFileAtomic } from "@/agent/durable-file";

export const ARTIFACTS_DIR = "artifacts";

export type ArtifactStoreErrorCode = "invalid_id" | "not_found" | "corrupted";

export class ArtifactStoreError extends Error {
  constructor(
    readonly code: ArtifactStoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ArtifactStoreError";
  }
}

/** The stored file's content does not hash to its name: tampered with or damaged on disk. */
export class ArtifactCorruptedError extends ArtifactStoreError {
  constructor(
    readonly expectedSha256: string,
    readonly actualSha256: string,
    readonly path: string,
  ) {
    super("corrupted", `artifact ${expectedSha256} is corrupted on disk: ${path} hashes to ${actualSha256}`);
    this.name = "ArtifactCorruptedError";
  }
}

export interface StoredArtifact {
  sha256: string;
  size: number;
  path: string;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Validates and normalizes (lowercase) an artifact id; anything but 64 hex characters is refused. */
export function normalizeSha256(sha256: unknown): string {
  if (typeof sha256 !== "string" || !/^[0-9a-fA-F]{64}$/.test(sha256)) {
    throw new ArtifactStoreError("invalid_id", "artifact id must be a sha256: 64 hex characters");
  }
  return sha256.toLowerCase();
}

/** Where the artifact with this sha256 lives (whether or not it exists). */
export function artifactPath(opts: { dataDir: string; sha256: string }): string {
  const sha = normalizeSha256(opts.sha256);
  return path.join(opts.dataDir, ARTIFACTS_DIR, sha.slice(0, 2), sha);
}


/**
 * Stores `bytes` under their sha256. Written to a temp file in the same directory, fsynced, then
 * renamed into place, so a reader never sees a partial artifact. If the artifact is already
 * stored intact nothing is written; if the stored copy is damaged, it is replaced.
 */
export async function putArtifact(opts: { dataDir: string; bytes: Uint8Array }): Promise<StoredArtifact> {
  const sha256 = sha256Hex(opts.bytes);
  const file = artifactPath({ dataDir: opts.dataDir, sha256 });
  const result = { sha256, size: opts.bytes.byteLength, path: file };

  const existing = await readFileIfExists(file);
  if (existing && sha256Hex(existing) === sha256) return result;

  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  // Identical content under an identical name: concurrent puts of the same bytes are harmless.
  await writeFileAtomic(file, opts.bytes, 0o644);
  // Make the new directory entry durable too (best effort: not every filesystem allows it).
  await fs
    .open(dir, "r")
    .then(async (dh) => {
      try {
        await dh.sync();
      } finally {
        await dh.close();
      }
    })
    .catch(() => undefined);
  return result;
}

/**
 * Reads a stored artifact and re-hashes it. Throws ArtifactStoreError `invalid_id` for a malformed
 * id, `not_found` when absent, and ArtifactCorruptedError when the content does not match its name.
 */
export async function openArtifact(opts: { dataDir: string; sha256: string }): Promise<Buffer> {
  const sha256 = normalizeSha256(opts.sha256);
  const file = artifactPath({ dataDir: opts.dataDir, sha256 });
  const bytes = await readFileIfExists(file);
  if (!bytes) throw new ArtifactStoreError("not_found", `artifact ${sha256} is not stored`);
  const actual = sha256Hex(bytes);
  if (actual !== sha256) throw new ArtifactCorruptedError(sha256, actual, file);
  return bytes;
}
