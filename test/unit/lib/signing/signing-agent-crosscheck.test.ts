// The console signs with lib/signing/signing.ts; the agent verifies with agent/artifact.ts. These
// are separate code paths (the agent must not import lib/); check that they agree.
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { consoleKeyFingerprint, pinConsoleKey, verifyArtifact } from "@/agent/artifact";
import { openArtifact, putArtifact } from "@/lib/builds/artifact-store";
import { loadSigningKey } from "@/lib/signing/signing";
import { tempDirEach } from "../../../helpers/temp-dir";

let dataDir: string;
tempDirEach("splicer-crosscheck-", (d) => (dataDir = d));

describe("console signing ↔ agent verification", () => {
  it("a stored artifact signed by the console verifies on the agent; tampering is refused", async () => {
    const key = await loadSigningKey({ dataDir });
    const pinned = pinConsoleKey(undefined, key.publicKeyPem);
    expect(pinned.ok).toBe(true);
    if (!pinned.ok) return;
    expect(consoleKeyFingerprint(pinned.key)).toBe(key.publicKeyFingerprint);

    const stored = await putArtifact({ dataDir, bytes: Buffer.from("\x7fELF livepatch module") });
    const expected = { artifactSha256: stored.sha256, patchId: "patch_01", kernelRelease: "6.8.0-45-generic", moduleName: "livepatch_cve_2024_1086" };
    const signature = key.sign(expected);

    const downloaded = await openArtifact({ dataDir, sha256: stored.sha256 });
    expect(verifyArtifact({ bytes: downloaded, expected, signature, publicKeyPem: pinned.key })).toEqual({ ok: true });

    const tampered = Buffer.concat([downloaded, Buffer.from("\0")]);
    expect(verifyArtifact({ bytes: tampered, expected, signature, publicKeyPem: pinned.key })).toMatchObject({ ok: false, reason: expect.stringMatching(/^artifact hash mismatch/) });
    expect(verifyArtifact({ bytes: downloaded, expected: { ...expected, kernelRelease: "6.8.0-46-generic" }, signature, publicKeyPem: pinned.key })).toEqual({
      ok: false,
      reason: "signature does not verify with the console's pinned key",
    });
  });

  it("after the console's key is replaced, the agent refuses both the new key and its signatures", async () => {
    const original = await loadSigningKey({ dataDir });
    const otherDir = await fs.mkdtemp(path.join(os.tmpdir(), "splicer-crosscheck-other-"));
    try {
      const impostor = await loadSigningKey({ dataDir: otherDir });
      expect(pinConsoleKey(original.publicKeyPem, impostor.publicKeyPem).ok).toBe(false);
      const bytes = Buffer.from("module");
      const { sha256 } = await putArtifact({ dataDir, bytes });
      const expected = { artifactSha256: sha256, patchId: "p", kernelRelease: "r", moduleName: "m" };
      expect(verifyArtifact({ bytes, expected, signature: impostor.sign(expected), publicKeyPem: original.publicKeyPem }).ok).toBe(false);
    } finally {
      await fs.rm(otherDir, { recursive: true, force: true });
    }
  });
});
