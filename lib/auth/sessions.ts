import "server-only";
import type { Me } from "@/lib/api/schemas";
import { newSecret, sha256 } from "@/lib/crypto";
import { prisma } from "@/lib/db/client";
import type { Tx } from "@/lib/db/client";
import type { Actor } from "@/lib/audit/actor";
import { appendAudit } from "@/lib/audit/append";
import { notify } from "@/lib/db/bus";

// Database sessions in the style of Lucia v3's guide (the Copenhagen Book): the cookie holds a
// 256-bit random secret; the database holds only its sha256, so a leaked table is no key.
export const SESSION_COOKIE = "splicer_session";
export const SESSION_TTL_MS = 7 * 24 * 3600 * 1000;
// Extend a session when less than this remains: active operators stay signed in.
const RENEW_WHEN_LEFT_MS = SESSION_TTL_MS / 2;

export async function createSession(tx: Tx, opts: { operatorId: string; ip?: string | null; userAgent?: string | null }): Promise<{ token: string; expiresAt: Date }> {
  const token = newSecret("ses");
  const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
  await tx.session.create({
    data: { id: sha256(token), operatorId: opts.operatorId, expiresAt, ip: opts.ip ?? null, userAgent: opts.userAgent?.slice(0, 300) ?? null },
  });
  return { token, expiresAt };
}

/** The session's row id: the sha256 of the cookie's secret. */
export const sessionIdOf = (token: string): string => sha256(token);

export async function validateSessionToken(token: string): Promise<Me | null> {
  if (!token.startsWith("spl_ses_") || token.length > 100) return null;
  const id = sessionIdOf(token);
  const s = await prisma.session.findUnique({ where: { id }, include: { operator: { select: { id: true, username: true, role: true, disabledAt: true } } } });
  if (!s || s.operator.disabledAt) return null;
  const now = Date.now();
  if (s.expiresAt.getTime() <= now) {
    await prisma.session.delete({ where: { id } }).catch(() => {});
    return null;
  }
  if (s.expiresAt.getTime() - now < RENEW_WHEN_LEFT_MS) {
    await prisma.session.update({ where: { id }, data: { expiresAt: new Date(now + SESSION_TTL_MS), lastSeenAt: new Date() } }).catch(() => {});
  }
  return { id: s.operator.id, username: s.operator.username, role: s.operator.role, via: "session" };
}

/** Signs out: ends the session (if any), audits it, and drops its live sockets everywhere. */
export async function logout(opts: { token: string | null; actor: Actor | null }): Promise<void> {
  await prisma.$transaction(async (tx) => {
    if (opts.token) {
      const id = sessionIdOf(opts.token);
      await tx.session.deleteMany({ where: { id } });
      await notify(tx, { type: "auth.revoked", sessionId: id });
    }
    if (opts.actor?.type === "operator") {
      await appendAudit(tx, { actor: opts.actor, action: "auth.logout", target: { type: "operator", id: opts.actor.id } });
    }
  });
}

/**
 * Of these sessions and API tokens, the ones still valid now (not expired, revoked or deleted,
 * operator not disabled). For re-checking live sockets: it does not extend sessions.
 */
export async function stillValid(opts: { sessionIds: string[]; apiTokenIds: string[] }): Promise<{ sessionIds: Set<string>; apiTokenIds: Set<string> }> {
  const now = new Date();
  const [sessions, tokens] = await Promise.all([
    opts.sessionIds.length
      ? prisma.session.findMany({ where: { id: { in: opts.sessionIds }, expiresAt: { gt: now }, operator: { disabledAt: null } }, select: { id: true } })
      : [],
    opts.apiTokenIds.length
      ? prisma.apiToken.findMany({ where: { id: { in: opts.apiTokenIds }, revokedAt: null, expiresAt: { gt: now }, createdBy: { disabledAt: null } }, select: { id: true } })
      : [],
  ]);
  return { sessionIds: new Set(sessions.map((s) => s.id)), apiTokenIds: new Set(tokens.map((t) => t.id)) };
}
