import "server-only";
import type { Actor } from "@/lib/audit/actor";
import { validateApiToken } from "./api-tokens";
import { SESSION_COOKIE, sessionIdOf, validateSessionToken } from "./sessions";

export function readCookie(header: string | null | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return null; // a malformed escape is no session (it threw, answering every request with a 500)
      }
    }
  }
  return null;
}

export interface Authenticated {
  actor: Actor & { type: "operator" | "api_token" };
  via: "session" | "api_token";
  /** The operator behind it: the signed-in one, or the token's creator. */
  operatorId: string;
  /** The session's id (a hash of its secret), for sessions. */
  sessionId?: string;
}

/** The operator or API token behind a request's `Authorization: Bearer` header or session cookie. */
export async function authenticate(h: { authorization?: string | null; cookie?: string | null; ip: string | null }): Promise<Authenticated | null> {
  const bearer = h.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (bearer) {
    const t = await validateApiToken(bearer, h.ip);
    return t ? { actor: t.actor, via: "api_token", operatorId: t.creatorId } : null;
  }
  const token = readCookie(h.cookie, SESSION_COOKIE);
  if (!token) return null;
  const me = await validateSessionToken(token);
  if (!me) return null;
  return { actor: { type: "operator", id: me.id, name: me.username, role: me.role, ip: h.ip }, via: "session", operatorId: me.id, sessionId: sessionIdOf(token) };
}
