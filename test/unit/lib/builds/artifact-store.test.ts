import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ArtifactCorruptedError, ArtifactStoreError, artifactPath, openArtifact, putArtifact } from "@/lib/builds/artifact-store";
import { tempDirEach } from "../../../helpers/temp-dir";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

let dataDir: string;
tempDirEach("splicer-artifacts-", (d) => (dataDir = d));

describe("putArtifact", () => {
  it("stores bytes under artifacts/<sha[0:2]>/<sha>", async () => {
    const bytes = Buffer.from("\x7fELF a livepatch module");
    const stored = await putArtifact({ dataDir, bytes });
    const digest = sha(bytes);
    expect(stored).toEqual({ sha256: digest, size: bytes.length, path: path.join(dataDir, "artifacts", digest.slice(0, 2), digest) });
    expect(await fs.readFile(stored.path)).toEqual(bytes);
    expect(await fs.readdir(path.dirname(stored.path))).toEqual([digest]); // no temp files left
  });

  it("storing the same bytes twice is a no-op", async () => {
    const bytes = Buffer.from("same module");
    const a = await putArtifact({ dataDir, bytes });
    const before = await fs.stat(a.path);
    await new Promise((r) => setTimeout(r, 20));
    const b = await putArtifact({ dataDir, bytes: Buffer.from("same module") });
    expect(b).toEqual(a);
    const after = await fs.stat(b.path);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
  });

  it("concurrent puts of the same bytes leave one intact file", async () => {
    const bytes = Buffer.alloc(256 * 1024, 7);
    const results = await Promise.all(Array.from({ length: 8 }, () => putArtifact({ dataDir, bytes })));
    expect(new Set(results.map((r) => r.path)).size).toBe(1);
    expect(await fs.readdir(path.dirname(results[0]!.path))).toEqual([sha(bytes)]);
    expect(await openArtifact({ dataDir, sha256: sha(bytes) })).toEqual(bytes);
  });

  it("different bytes get different addresses; empty artifacts are fine", async () => {
    const a = await putArtifact({ dataDir, bytes: Buffer.from("a") });
    const b = await putArtifact({ dataDir, bytes: Buffer.from("b") });
    const empty = await putArtifact({ dataDir, bytes: Buffer.alloc(0) });
    expect(new Set([a.sha256, b.sha256, empty.sha256]).size).toBe(3);
    expect(empty.size).toBe(0);
    expect(await openArtifact({ dataDir, sha256: empty.sha256 })).toEqual(Buffer.alloc(0));
  });

  it("replaces a damaged stored copy when the right bytes are stored again", async () => {
    const bytes = Buffer.from("module v1");
    const stored = await putArtifact({ dataDir, bytes });
    await fs.writeFile(stored.path, "module v2");
    await putArtifact({ dataDir, bytes });
    expect(await openArtifact({ dataDir, sha256: stored.sha256 })).toEqual(bytes);
  });
});

describe("openArtifact", () => {
  it("returns the stored bytes (id case-insensitive)", async () => {
    const bytes = Buffer.from("module");
    const { sha256 } = await putArtifact({ dataDir, bytes });
    expect(await openArtifact({ dataDir, sha256 })).toEqual(bytes);
    expect(await openArtifact({ dataDir, sha256: sha256.toUpperCase() })).toEqual(bytes);
  });

  it("detects content tampered with on disk", async () => {
    const bytes = Buffer.from("genuine module");
    const { sha256, path: file } = await putArtifact({ dataDir, bytes });
    await fs.writeFile(file, "evil module!!!"); // same length, different content
    const err = await openArtifact({ dataDir, sha256 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactCorruptedError);
    expect(err).toBeInstanceOf(ArtifactStoreError);
    expect((err as ArtifactCorruptedError).code).toBe("corrupted");
    expect((err as ArtifactCorruptedError).expectedSha256).toBe(sha256);
    expect((err as ArtifactCorruptedError).actualSha256).toBe(sha(Buffer.from("evil module!!!")));
  });

  it("reports a missing artifact as not_found", async () => {
    const err = await openArtifact({ dataDir, sha256: "0".repeat(64) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactStoreError);
    expect((err as ArtifactStoreError).code).toBe("not_found");
  });

  it.each([
    ["too short", "abc"],
    ["not hex", "g".repeat(64)],
    ["path traversal", "../../../../etc/passwd"],
    ["traversal padded to 64", "../" + "a".repeat(61)],
    ["slash inside", "ab/" + "c".repeat(61)],
    ["trailing newline", "a".repeat(64) + "\n"],
    ["empty", ""],
  ])("refuses a malformed id (%s)", async (_label, sha256) => {
    const err = await openArtifact({ dataDir, sha256 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactStoreError);
    expect((err as ArtifactStoreError).code).toBe("invalid_id");
    expect(() => artifactPath({ dataDir, sha256 })).toThrow(ArtifactStoreError);
  });
});
