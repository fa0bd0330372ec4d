import crypto from "node:crypto";

/** A random secret with a recognisable prefix (`spl_enr_…`), like GitHub's token formats. */
export function newSecret(kind: "enr" | "api" | "agt" | "ses"): string {
  return `spl_${kind}_${crypto.randomBytes(32).toString("base64url")}`;
}

/** Secrets are 256-bit random, so a plain sha256 is a sufficient one-way lookup key. */
export function sha256(text: string): string {
  return crypto.createHash("sha256").update(text).digest("hex");
}

export function secretPrefix(secret: string): string {
  return secret.slice(0, 12);
}

export function safeEqualHex(a: string, b: string): boolean {
  const ab = Buffer.from(a, "hex");
  const bb = Buffer.from(b, "hex");
  return ab.length === bb.length && crypto.timingSafeEqual(ab, bb);
}
