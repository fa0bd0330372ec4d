import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { describe, expect, it } from "vitest";
import { consoleKeyFingerprint, pinConsoleKey, verifyArtifact } from "../../../agent/artifact";
import { artifactSignaturePayload, type ArtifactSignedFields } from "../../../agent/protocol";

function keypair(): { privateKey: KeyObject; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }) as string };
}
const signWith = (key: KeyObject, f: ArtifactSignedFields) => sign(null, Buffer.from(artifactSignaturePayload(f), "utf8"), key).toString("base64");

const consoleKey = keypair();
const otherKey = keypair();
const bytes = Buffer.from("\x7fELF livepatch_cve_2024_1086.ko");
const fields: ArtifactSignedFields = {
  artifactSha256: createHash("sha256").update(bytes).digest("hex"),
  patchId: "patch_01",
  kernelRelease: "6.8.0-45-generic",
  moduleName: "livepatch_cve_2024_1086",
};
const signature = signWith(consoleKey.privateKey, fields);
const SIG_REASON = "signature does not verify with the console's pinned key";

describe("verifyArtifact", () => {
  it("accepts the artifact the console signed", () => {
    expect(verifyArtifact({ bytes, expected: fields, signature, publicKeyPem: consoleKey.publicKeyPem })).toEqual({ ok: true });
  });

  it("refuses tampered bytes with the hash reason, before looking at the signature", () => {
    const tampered = Buffer.from(bytes);
    tampered[tampered.length - 1] ^= 1;
    const got = createHash("sha256").update(tampered).digest("hex");
    const result = verifyArtifact({ bytes: tampered, expected: fields, signature, publicKeyPem: consoleKey.publicKeyPem });
    expect(result).toEqual({ ok: false, reason: `artifact hash mismatch: got ${got}, expected ${fields.artifactSha256}` });
    // Hash first: even with a garbage signature and key the reason is the hash.
    expect(verifyArtifact({ bytes: tampered, expected: fields, signature: "!!", publicKeyPem: "nope" })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^artifact hash mismatch/),
    });
  });

  it.each([
    ["patch id", { patchId: "patch_02" }],
    ["kernel release", { kernelRelease: "6.8.0-46-generic" }],
    ["module name", { moduleName: "livepatch_other" }],
  ])("refuses right bytes whose signature covers a different %s", (_label, change) => {
    // The console signed these bytes for another patch/release/module; the agent expects ours.
    const sigForOther = signWith(consoleKey.privateKey, { ...fields, ...change });
    expect(verifyArtifact({ bytes, expected: fields, signature: sigForOther, publicKeyPem: consoleKey.publicKeyPem })).toEqual({
      ok: false,
      reason: SIG_REASON,
    });
    // And the genuine signature does not stretch to the other fields either.
    expect(verifyArtifact({ bytes, expected: { ...fields, ...change }, signature, publicKeyPem: consoleKey.publicKeyPem })).toEqual({
      ok: false,
      reason: SIG_REASON,
    });
  });

  it("refuses a signature made with another key", () => {
    const forged = signWith(otherKey.privateKey, fields);
    expect(verifyArtifact({ bytes, expected: fields, signature: forged, publicKeyPem: consoleKey.publicKeyPem })).toEqual({ ok: false, reason: SIG_REASON });
    // ...and the genuine signature against a different pinned key.
    expect(verifyArtifact({ bytes, expected: fields, signature, publicKeyPem: otherKey.publicKeyPem })).toEqual({ ok: false, reason: SIG_REASON });
  });

  it("refuses a bit-flipped signature", () => {
    const raw = Buffer.from(signature, "base64");
    raw[0] ^= 1;
    expect(verifyArtifact({ bytes, expected: fields, signature: raw.toString("base64"), publicKeyPem: consoleKey.publicKeyPem })).toEqual({ ok: false, reason: SIG_REASON });
  });

  it.each([
    ["empty", ""],
    ["not base64", "not base64 at all!"],
    ["base64 of the wrong length", Buffer.alloc(63).toString("base64")],
    ["truncated", signature.slice(0, 40)],
    ["with whitespace", ` ${signature}`],
  ])("returns ok:false for a garbage signature (%s)", (_label, sig) => {
    const result = verifyArtifact({ bytes, expected: fields, signature: sig, publicKeyPem: consoleKey.publicKeyPem });
    expect(result.ok).toBe(false);
  });

  it.each([
    ["empty", ""],
    ["garbage", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"],
    ["not PEM", "hello"],
    ["a private key", consoleKey.privateKey.export({ type: "pkcs8", format: "pem" }) as string],
    ["an RSA key", generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "pem" }) as string],
  ])("returns ok:false for a bad public key (%s)", (_label, pem) => {
    const result = verifyArtifact({ bytes, expected: fields, signature, publicKeyPem: pem });
    expect(result.ok).toBe(false);
  });

  it("never throws on wrongly typed input", () => {
    const cases: unknown[] = [
      { bytes: "string", expected: fields, signature, publicKeyPem: consoleKey.publicKeyPem },
      { bytes, expected: null, signature, publicKeyPem: consoleKey.publicKeyPem },
      { bytes, expected: { ...fields, patchId: 42 }, signature, publicKeyPem: consoleKey.publicKeyPem },
      { bytes, expected: fields, signature: null, publicKeyPem: consoleKey.publicKeyPem },
      { bytes, expected: fields, signature, publicKeyPem: undefined },
      { bytes, expected: fields, signature, publicKeyPem: { not: "a string" } },
    ];
    for (const c of cases) {
      const result = verifyArtifact(c as Parameters<typeof verifyArtifact>[0]);
      expect(result.ok).toBe(false);
    }
  });

  it("refuses fields with line breaks (ambiguous payload)", () => {
    const weird = { ...fields, patchId: "patch_01\nrelease=x" };
    expect(verifyArtifact({ bytes, expected: weird, signature: signWith(consoleKey.privateKey, weird), publicKeyPem: consoleKey.publicKeyPem }).ok).toBe(false);
  });
});

describe("pinConsoleKey", () => {
  it("pins the first key received", () => {
    expect(pinConsoleKey(undefined, consoleKey.publicKeyPem)).toEqual({ ok: true, key: consoleKey.publicKeyPem, changed: true });
  });

  it("accepts the same key again (as a key, not as PEM text)", () => {
    const reformatted = consoleKey.publicKeyPem.replace(/\n/g, "\r\n");
    expect(pinConsoleKey(consoleKey.publicKeyPem, reformatted)).toEqual({ ok: true, key: consoleKey.publicKeyPem, changed: false });
  });

  it("refuses a different key and never replaces the pinned one", () => {
    const result = pinConsoleKey(consoleKey.publicKeyPem, otherKey.publicKeyPem);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/changed/);
  });

  it("refuses an invalid received key, even when nothing is pinned yet", () => {
    expect(pinConsoleKey(undefined, "garbage").ok).toBe(false);
    expect(pinConsoleKey(consoleKey.publicKeyPem, "").ok).toBe(false);
  });

  it("refuses when the pinned key is unreadable", () => {
    expect(pinConsoleKey("garbage", consoleKey.publicKeyPem).ok).toBe(false);
  });

  it("fingerprints Ed25519 public keys only", () => {
    expect(consoleKeyFingerprint(consoleKey.publicKeyPem)).toMatch(/^[0-9a-f]{64}$/);
    expect(consoleKeyFingerprint("garbage")).toBeNull();
  });
});
