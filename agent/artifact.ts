// Agent-side checks before a downloaded artifact may be loaded into the kernel: its sha256 must be
// the one the console announced, and the console's Ed25519 signature over (hash, patch id, kernel
// release, module name) must verify with the key pinned at enrollment. Also the pinning rule for
// that key. Nothing here throws on hostile input: every failure is a reason to refuse and report.
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from "node:crypto";
import { artifactSignaturePayload, type ArtifactSignedFields } from "./protocol";

export type ArtifactVerification = { ok: true } | { ok: false; reason: string };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ED25519_SIGNATURE_BYTES = 64;

function parsePublicKey(pem: unknown): { ok: true; key: KeyObject } | { ok: false; reason: string } {
  if (typeof pem !== "string" || pem.trim() === "") return { ok: false, reason: "no console public key" };
  // createPublicKey would also derive a public key from a private one; a private key has no
  // business on an agent, so refuse it rather than use it.
  if (pem.includes("PRIVATE KEY")) return { ok: false, reason: "console public key is a private key" };
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: "pem" });
  } catch {
    return { ok: false, reason: "console public key is not a valid PEM public key" };
  }
  if (key.asymmetricKeyType !== "ed25519") {
    return { ok: false, reason: `console public key is ${key.asymmetricKeyType ?? "of an unknown type"}, expected ed25519` };
  }
  return { ok: true, key };
}

/** sha256 of the DER (SPKI) public key, hex; null when `pem` is not an Ed25519 public key. */
export function consoleKeyFingerprint(pem: string): string | null {
  const parsed = parsePublicKey(pem);
  if (!parsed.ok) return null;
  return createHash("sha256").update(parsed.key.export({ type: "spki", format: "der" })).digest("hex");
}

export function verifyArtifact(opts: {
  bytes: Uint8Array;
  expected: ArtifactSignedFields;
  /** Base64 Ed25519 signature over artifactSignaturePayload(expected). */
  signature: string;
  /** The console's public key as pinned at enrollment (SPKI PEM). */
  publicKeyPem: string;
}): ArtifactVerification {
  try {
    const { bytes, expected, signature, publicKeyPem } = opts;
    if (!(bytes instanceof Uint8Array)) return { ok: false, reason: "artifact bytes missing" };
    if (typeof expected !== "object" || expected === null) return { ok: false, reason: "expected artifact fields missing" };
    const fields = [expected.artifactSha256, expected.patchId, expected.kernelRelease, expected.moduleName];
    if (!fields.every((v) => typeof v === "string")) return { ok: false, reason: "expected artifact fields malformed" };

    // 1. The bytes are the artifact the console described.
    const got = createHash("sha256").update(bytes).digest("hex");
    const want = expected.artifactSha256.toLowerCase();
    if (got !== want) return { ok: false, reason: `artifact hash mismatch: got ${got}, expected ${expected.artifactSha256}` };

    // 2. The description (hash, patch, release, module) is the console's, signed with its key.
    // A line break inside a field would let two different field sets share one payload; the
    // console never signs such fields.
    if (fields.some((v) => /[\r\n]/.test(v))) return { ok: false, reason: "expected artifact fields contain line breaks" };
    const key = parsePublicKey(publicKeyPem);
    if (!key.ok) return { ok: false, reason: key.reason };
    if (typeof signature !== "string" || signature.length === 0 || !BASE64.test(signature)) {
      return { ok: false, reason: "signature is not valid base64" };
    }
    const sig = Buffer.from(signature, "base64");
    if (sig.length !== ED25519_SIGNATURE_BYTES) {
      return { ok: false, reason: `signature has ${sig.length} bytes, an Ed25519 signature has ${ED25519_SIGNATURE_BYTES}` };
    }
    const payload = Buffer.from(artifactSignaturePayload({ ...expected, artifactSha256: want }), "utf8");
    if (!cryptoVerify(null, payload, key.key, sig)) {
      return { ok: false, reason: "signature does not verify with the console's pinned key" };
    }
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `artifact verification failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

export type PinResult =
  /** `key` is what to store; `changed` is true when it was not stored before (first pin). */
  { ok: true; key: string; changed: boolean } | { ok: false; error: string };

/**
 * The pinning rule for the console's public key: the first key received is pinned; the same key
 * again is fine (compared as keys, not as PEM text); a different key is refused and never replaces
 * the pinned one: re-keying a console means re-enrolling its agents.
 */
export function pinConsoleKey(existing: string | undefined | null, received: string): PinResult {
  const receivedFp = consoleKeyFingerprint(received);
  if (!receivedFp) return { ok: false, error: "the console sent no valid Ed25519 public key" };
  if (existing === undefined || existing === null || existing === "") return { ok: true, key: received, changed: true };
  const existingFp = consoleKeyFingerprint(existing);
  if (!existingFp) return { ok: false, error: "the pinned console key is unreadable; remove the credential file and enroll again" };
  if (existingFp !== receivedFp) {
    return {
      ok: false,
      error: `the console's public key changed (pinned ${existingFp.slice(0, 16)}…, received ${receivedFp.slice(0, 16)}…); refusing it: enroll again to trust a new key`,
    };
  }
  return { ok: true, key: existing, changed: false };
}
