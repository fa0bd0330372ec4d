import "server-only";
import { safeEqualHex, sha256 } from "@/lib/crypto";
import { prisma } from "@/lib/db/client";

export type AgentAuthResult =
  | { ok: true; hostId: string; hostname: string }
  | { ok: false; reason: "bad_credential" | "revoked" };

/** Checks an agent's credential against the stored hash (constant-time compare). */
export async function authenticateAgent(opts: { hostId: string; credential: string }): Promise<AgentAuthResult> {
  const h = await prisma.host.findUnique({ where: { id: opts.hostId }, select: { id: true, hostname: true, status: true, credentialHash: true } });
  if (!h) return { ok: false, reason: "bad_credential" };
  if (h.status !== "active") return { ok: false, reason: "revoked" };
  if (!credentialMatches(opts.credential, h.credentialHash)) return { ok: false, reason: "bad_credential" };
  return { ok: true, hostId: h.id, hostname: h.hostname };
}

/** Constant-time check of a credential against its stored sha256. */
export function credentialMatches(credential: string, storedHash: string): boolean {
  // A revoked host's hash is replaced by a non-hex marker, which never matches.
  return /^[0-9a-f]{64}$/.test(storedHash) && safeEqualHex(sha256(credential), storedHash);
}
