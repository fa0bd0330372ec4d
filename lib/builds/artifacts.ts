import "server-only";
// Artifacts live in Postgres (the Artifact table), the one store every build worker can write to
// from any machine and every console can read from. A console serves downloads from a disk copy
// (artifact-store.ts, content-addressed, re-hashed on every read), filled from the database on
// first use: thousands of hosts downloading in a rollout read the disk, not the database.
import { createHash } from "node:crypto";
import { prisma } from "@/lib/db/client";
import { log } from "@/lib/log";
import { ArtifactCorruptedError, ArtifactStoreError, normalizeSha256, openArtifact, putArtifact } from "./artifact-store";

export const sha256Hex = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** Stores built bytes under their sha256 (the same bytes twice: one row). */
export async function storeArtifact(opts: { bytes: Uint8Array }): Promise<{ sha256: string; size: number }> {
  const sha256 = sha256Hex(opts.bytes);
  const size = opts.bytes.byteLength;
  await prisma.$executeRaw`insert into "Artifact" (sha256, size, content) values (${sha256}, ${size}, ${Buffer.from(opts.bytes)}) on conflict (sha256) do nothing`;
  return { sha256, size };
}

/** The bytes as stored in the database, or null when there is no such row. Not verified: callers hash them. */
export async function artifactFromDatabase(sha256: string): Promise<Buffer | null> {
  const [row] = await prisma.$queryRaw<{ content: Uint8Array }[]>`select content from "Artifact" where sha256 = ${sha256}`;
  return row ? Buffer.from(row.content) : null;
}

// One database read per artifact at a time, however many hosts ask for it at once.
const loading = new Map<string, Promise<Buffer>>();

/**
 * An artifact's bytes for serving: the console's disk copy, else the database's (verified, then
 * copied to disk). A disk copy that does not match its hash is refused (ArtifactCorruptedError),
 * not silently replaced: someone changed a file the console serves, and operators must know.
 */
export async function readArtifact(opts: { dataDir: string; sha256: string }): Promise<Buffer> {
  const sha256 = normalizeSha256(opts.sha256);
  try {
    return await openArtifact({ dataDir: opts.dataDir, sha256 });
  } catch (err) {
    if (!(err instanceof ArtifactStoreError) || err.code !== "not_found") throw err;
  }
  let pending = loading.get(sha256);
  if (!pending) {
    pending = (async () => {
      const bytes = await artifactFromDatabase(sha256);
      if (!bytes) throw new ArtifactStoreError("not_found", `artifact ${sha256} is neither in the database nor on this console's disk`);
      const actual = sha256Hex(bytes);
      if (actual !== sha256) throw new ArtifactCorruptedError(sha256, actual, `the database's Artifact row ${sha256}`);
      await putArtifact({ dataDir: opts.dataDir, bytes });
      return bytes;
    })().finally(() => loading.delete(sha256));
    loading.set(sha256, pending);
  }
  return pending;
}

/**
 * Copies into the database the artifacts of succeeded builds that only this console's disk holds
 * (built before artifacts moved into Postgres), so that every console can serve them. Returns how
 * many were copied.
 */
export async function backfillArtifacts(opts: { dataDir: string }): Promise<number> {
  const missing = await prisma.$queryRaw<{ sha256: string }[]>`
    select distinct b."artifactSha256" as sha256 from "Build" b
    where b."artifactSha256" is not null and not exists (select 1 from "Artifact" a where a.sha256 = b."artifactSha256")`;
  let copied = 0;
  for (const { sha256 } of missing) {
    try {
      const bytes = await openArtifact({ dataDir: opts.dataDir, sha256 });
      await storeArtifact({ bytes });
      copied++;
    } catch (err) {
      // Not on this disk: another console's, perhaps. Damaged here: say so.
      if (err instanceof ArtifactStoreError && err.code === "not_found") continue;
      log.warn({ err, sha256 }, "could not copy an artifact from this console's disk into the database");
    }
  }
  return copied;
}
