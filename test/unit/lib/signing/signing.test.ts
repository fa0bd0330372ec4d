import { execFile } from "node:child_process";
import { createHash, createPublicKey, verify } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { artifactSignaturePayload, type ArtifactSignedFields } from "@/agent/protocol";
import { KEYS_DIR, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, SigningKeyError, loadSigningKey } from "@/lib/signing/signing";
import { tempDirEach } from "../../../helpers/temp-dir";

const fields: ArtifactSignedFields = {
  artifactSha256: createHash("sha256").update("a livepatch module").digest("hex"),
  patchId: "patch_01",
  kernelRelease: "6.8.0-45-generic",
  moduleName: "livepatch_cve_2024_1086",
};

function verifies(publicKeyPem: string, f: ArtifactSignedFields, signature: string): boolean {
  return verify(null, Buffer.from(artifactSignaturePayload(f), "utf8"), createPublicKey(publicKeyPem), Buffer.from(signature, "base64"));
}

let dataDir: string;
tempDirEach("splicer-signing-", (d) => (dataDir = d));

describe("loadSigningKey", () => {
  it("creates the key at first use: private key 0600 in a 0700 dir, public key alongside", async () => {
    const key = await loadSigningKey({ dataDir });
    const dir = path.join(dataDir, KEYS_DIR);
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    const privFile = path.join(dir, PRIVATE_KEY_FILE);
    expect((await fs.stat(privFile)).mode & 0o777).toBe(0o600);
    expect(await fs.readFile(privFile, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(await fs.readFile(path.join(dir, PUBLIC_KEY_FILE), "utf8")).toBe(key.publicKeyPem);
    expect(key.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(createPublicKey(key.publicKeyPem).asymmetricKeyType).toBe("ed25519");
    // No temp files left behind.
    expect((await fs.readdir(dir)).sort()).toEqual([PRIVATE_KEY_FILE, PUBLIC_KEY_FILE].sort());
  });

  it("fingerprint is the sha256 of the DER public key", async () => {
    const key = await loadSigningKey({ dataDir });
    const der = createPublicKey(key.publicKeyPem).export({ type: "spki", format: "der" });
    expect(key.publicKeyFingerprint).toBe(createHash("sha256").update(der).digest("hex"));
    expect(key.publicKeyFingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it("reuses the key on a second load", async () => {
    const a = await loadSigningKey({ dataDir });
    const b = await loadSigningKey({ dataDir });
    expect(b.publicKeyPem).toBe(a.publicKeyPem);
    expect(b.publicKeyFingerprint).toBe(a.publicKeyFingerprint);
    expect(verifies(a.publicKeyPem, fields, b.sign(fields))).toBe(true);
  });

  it("tightens a pre-existing keys dir and a loosened key file", async () => {
    await loadSigningKey({ dataDir });
    const dir = path.join(dataDir, KEYS_DIR);
    await fs.chmod(dir, 0o755);
    await fs.chmod(path.join(dir, PRIVATE_KEY_FILE), 0o644);
    await loadSigningKey({ dataDir });
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(path.join(dir, PRIVATE_KEY_FILE))).mode & 0o777).toBe(0o600);
  });

  it("racing first loads all end up with one key", async () => {
    const keys = await Promise.all(Array.from({ length: 12 }, () => loadSigningKey({ dataDir })));
    const fingerprints = new Set(keys.map((k) => k.publicKeyFingerprint));
    expect(fingerprints.size).toBe(1);
    // And the key on disk is that key.
    const again = await loadSigningKey({ dataDir });
    expect(again.publicKeyFingerprint).toBe(keys[0]!.publicKeyFingerprint);
    expect((await fs.readdir(path.join(dataDir, KEYS_DIR))).sort()).toEqual([PRIVATE_KEY_FILE, PUBLIC_KEY_FILE].sort());
    for (const k of keys) expect(verifies(again.publicKeyPem, fields, k.sign(fields))).toBe(true);
  });

  it("console processes starting at the same moment on one data dir end up with one key", async () => {
    const root = path.resolve(import.meta.dirname, "../../../..");
    const modulePath = path.join(root, "lib/signing/signing.ts");
    // Every process waits for the same instant before loading, so their first loads overlap.
    const startAt = Date.now() + 2500;
    const script = `
      const m = await import(${JSON.stringify(modulePath)});
      await new Promise((r) => setTimeout(r, Math.max(0, ${startAt} - Date.now())));
      const k = await m.loadSigningKey({ dataDir: process.argv[1] });
      process.stdout.write(k.publicKeyFingerprint);`;
    const run = () =>
      promisify(execFile)(process.execPath, ["--import", "tsx", "--import", "./scripts/hooks/register.mjs", "--input-type=module", "-e", script, dataDir], { cwd: root });
    const outputs = await Promise.all(Array.from({ length: 4 }, run));
    const fingerprints = new Set(outputs.map((o) => o.stdout.trim()));
    expect(fingerprints.size).toBe(1);
    expect([...fingerprints][0]).toBe((await loadSigningKey({ dataDir })).publicKeyFingerprint);
  });

  it("regenerates a missing public key file from the private key", async () => {
    const a = await loadSigningKey({ dataDir });
    await fs.rm(path.join(dataDir, KEYS_DIR, PUBLIC_KEY_FILE));
    const b = await loadSigningKey({ dataDir });
    expect(b.publicKeyFingerprint).toBe(a.publicKeyFingerprint);
    expect(await fs.readFile(path.join(dataDir, KEYS_DIR, PUBLIC_KEY_FILE), "utf8")).toBe(a.publicKeyPem);
  });

  it("refuses a damaged private key file instead of silently replacing it", async () => {
    await loadSigningKey({ dataDir });
    await fs.writeFile(path.join(dataDir, KEYS_DIR, PRIVATE_KEY_FILE), "garbage");
    await expect(loadSigningKey({ dataDir })).rejects.toBeInstanceOf(SigningKeyError);
  });

  it("does not expose the private key", async () => {
    const key = await loadSigningKey({ dataDir });
    expect(Object.keys(key).sort()).toEqual(["publicKeyFingerprint", "publicKeyPem", "sign"]);
    expect(JSON.stringify(key)).not.toMatch(/PRIVATE KEY/);
    expect(Object.isFrozen(key)).toBe(true);
  });
});

describe("SigningKey.sign", () => {
  it("signs artifactSignaturePayload(fields); verifies with node:crypto", async () => {
    const key = await loadSigningKey({ dataDir });
    const sig = key.sign(fields);
    expect(Buffer.from(sig, "base64")).toHaveLength(64);
    expect(verifies(key.publicKeyPem, fields, sig)).toBe(true);
  });

  it.each([
    ["artifactSha256", createHash("sha256").update("another module").digest("hex")],
    ["patchId", "patch_02"],
    ["kernelRelease", "6.8.0-46-generic"],
    ["moduleName", "livepatch_other"],
  ] as const)("changing %s breaks verification", async (field, value) => {
    const key = await loadSigningKey({ dataDir });
    const sig = key.sign(fields);
    expect(verifies(key.publicKeyPem, { ...fields, [field]: value }, sig)).toBe(false);
  });

  it("refuses fields that are malformed or could make the payload ambiguous", async () => {
    const key = await loadSigningKey({ dataDir });
    expect(() => key.sign({ ...fields, artifactSha256: "abc" })).toThrow(SigningKeyError);
    expect(() => key.sign({ ...fields, artifactSha256: fields.artifactSha256.toUpperCase() })).toThrow(SigningKeyError);
    expect(() => key.sign({ ...fields, patchId: "p\nrelease=x" })).toThrow(SigningKeyError);
    expect(() => key.sign({ ...fields, moduleName: "" })).toThrow(SigningKeyError);
  });
});
