import "server-only";
// The console's Ed25519 artifact signing key. Created at first use under `<dataDir>/keys/`
// (private key PKCS#8 PEM, 0600, in a 0700 directory; the SPKI public key PEM alongside for
// operators) and loaded afterwards. The private key never leaves this module: callers get a
// `sign()` function and the public half, nothing else.
//
// Two console processes sharing a data dir may start at the same moment: each may generate a key,
// but only one is ever published. The key is written to a private temp file, fsynced, then
// hard-linked to its final name; link(2) fails with EEXIST if another process got there first,
// in which case we drop ours and load theirs. Readers never see a half-written key file.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as cryptoSign, type KeyObject } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { artifactSignaturePayload, type ArtifactSignedFields } from "@/agent/protocol";
import { readFileIfExists } from "@/lib/files";
import { ensurePrivateDir, publishExclusive, writeFileAtomic } from "@/agent/durable-file";

export const KEYS_DIR = "keys";
export const PRIVATE_KEY_FILE = "artifact-signing.key";
export const PUBLIC_KEY_FILE = "artifact-signing.pub";

export interface SigningKey {
  /** SPKI PEM of the public key: what agents receive at enrollment and pin. */
  readonly publicKeyPem: string;
  /** sha256 of the DER (SPKI) public key, lowercase hex. */
  readonly publicKeyFingerprint: string;
  /** Base64 Ed25519 signature over `artifactSignaturePayload(fields)` (UTF-8). */
  sign(fields: ArtifactSignedFields): string;
}

export class SigningKeyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SigningKeyError";
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** sha256 of the DER SPKI encoding of a public key, hex. */
export function publicKeyFingerprint(publicKey: KeyObject): string {
  return createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex");
}

/** Creates `<dataDir>/keys` (0700) for the console's secrets; also used by lib/audit/anchor-store.ts. */
async function readPrivateKey(file: string): Promise<KeyObject | null> {
  const pem = await readFileIfExists(file, "utf8");
  if (pem === null) return null;
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: "pem" });
  } catch (err) {
    throw new SigningKeyError(`${file} is not a readable private key; restore it from backup (agents pin the matching public key)`, { cause: err });
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new SigningKeyError(`${file} holds a ${key.asymmetricKeyType ?? "unknown"} key, expected ed25519`);
  }
  // Tighten permissions that were loosened by hand (the key is the console's signing identity).
  const st = await fs.stat(file);
  if ((st.mode & 0o077) !== 0) await fs.chmod(file, 0o600);
  return key;
}

async function loadOrCreatePrivateKey(dir: string): Promise<KeyObject> {
  const file = path.join(dir, PRIVATE_KEY_FILE);
  const existing = await readPrivateKey(file);
  if (existing) return existing;

  const { privateKey } = generateKeyPairSync("ed25519");
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  if (await publishExclusive(file, pem, 0o600)) return privateKey;

  // Another process created the key between our read and our link: use theirs.
  const theirs = await readPrivateKey(file);
  if (!theirs) throw new SigningKeyError(`${file} vanished while it was being created`);
  return theirs;
}

function checkFields(f: ArtifactSignedFields): void {
  if (!SHA256_HEX.test(f.artifactSha256)) throw new SigningKeyError("artifactSha256 must be 64 lowercase hex characters");
  for (const [name, value] of Object.entries({ patchId: f.patchId, kernelRelease: f.kernelRelease, moduleName: f.moduleName })) {
    if (typeof value !== "string" || value.length === 0) throw new SigningKeyError(`${name} must be a non-empty string`);
    // One field per line in the payload: a newline inside a field would make two different
    // field sets sign the same text.
    if (/[\r\n]/.test(value)) throw new SigningKeyError(`${name} must not contain line breaks`);
  }
}

/**
 * Loads the console's signing key from `<dataDir>/keys/`, creating it on first use. Safe to call
 * concurrently from several processes sharing the data dir: all of them end up with the same key.
 */
export async function loadSigningKey(opts: { dataDir: string }): Promise<SigningKey> {
  const dir = path.join(opts.dataDir, KEYS_DIR);
  await ensurePrivateDir(dir);
  const privateKey = await loadOrCreatePrivateKey(dir);
  const publicKey = createPublicKey(privateKey);
  const publicKeyPem = publicKey.export({ type: "spki", format: "pem" }) as string;
  const fingerprint = publicKeyFingerprint(publicKey);

  // The public key file is derived from the private key and only informational; (re)write it
  // when missing or stale. Concurrent writers write identical content.
  const pubFile = path.join(dir, PUBLIC_KEY_FILE);
  const currentPub = await readFileIfExists(pubFile, "utf8");
  if (currentPub !== publicKeyPem) await writeFileAtomic(pubFile, publicKeyPem, 0o644);

  const signingKey: SigningKey = {
    publicKeyPem,
    publicKeyFingerprint: fingerprint,
    sign(fields: ArtifactSignedFields): string {
      checkFields(fields);
      return cryptoSign(null, Buffer.from(artifactSignaturePayload(fields), "utf8"), privateKey).toString("base64");
    },
  };
  return Object.freeze(signingKey);
}
