import "server-only";
import type { Actor } from "@/lib/audit/actor";
import { validateApiToken } from "./api-tokens";
import { SESSION_COOKIE, validateSessionToken } from "./sessions";

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
}

/** The operator or API token behind a request's `Authorization: Bearer` header or session cookie. */
export async function authenticate(h: { authorization?: string | null; cookie?: string | null; ip: string | null }): Promise<Authenticated | null> {
  const bearer = h.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (bearer) {
    const actor = await validateApiToken(bearer, h.ip);
    return actor && actor.type === "api_token" ? { actor, via: "api_token" } : null;
  }
  const token = readCookie(h.cookie, SESSION_COOKIE);
  if (!token) return null;
  const me = await validateSessionToken(token);
  if (!me) return null;
  return { actor: { type: "operator", id: me.id, name: me.username, role: me.role, ip: h.ip }, via: "session" };
}
