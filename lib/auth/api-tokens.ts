import "server-only";
import type { ApiToken, Role } from "@/lib/api/schemas";
import type { Actor } from "@/lib/audit/actor";
import { appendAudit } from "@/lib/audit/append";
import { newSecret, secretPrefix, sha256 } from "@/lib/crypto";
import { prisma } from "@/lib/db/client";
import { notify } from "@/lib/db/bus";
import { ConflictError, ForbiddenError, NotFoundError } from "@/lib/errors";
import { roleAtLeast } from "./roles";

type Row = {
  id: string; name: string; prefix: string; role: Role; createdAt: Date; expiresAt: Date;
  lastUsedAt: Date | null; revokedAt: Date | null; createdBy: { username: string };
};
const toApiToken = (t: Row): ApiToken => ({
  id: t.id,
  name: t.name,
  prefix: t.prefix,
  role: t.role,
  createdBy: t.createdBy.username,
  createdAt: t.createdAt.toISOString(),
  expiresAt: t.expiresAt.toISOString(),
  lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
  revokedAt: t.revokedAt?.toISOString() ?? null,
});
const include = { createdBy: { select: { username: true } } } as const;

export async function listApiTokens(): Promise<ApiToken[]> {
  const rows = await prisma.apiToken.findMany({ orderBy: { createdAt: "desc" }, include });
  return rows.map(toApiToken);
}

export async function createApiToken(opts: { actor: Actor; name: string; role: Role; expiresInDays: number }): Promise<ApiToken & { token: string }> {
  if (opts.actor.type !== "operator") throw new ForbiddenError("API tokens are created by operators, not by other tokens");
  if (!roleAtLeast(opts.actor.role, opts.role)) throw new ForbiddenError("a token cannot have more rights than its creator");
  const creatorId = opts.actor.id;
  const token = newSecret("api");
  return prisma.$transaction(async (tx) => {
    const row = await tx.apiToken.create({
      data: {
        name: opts.name,
        role: opts.role,
        prefix: secretPrefix(token),
        tokenHash: sha256(token),
        createdById: creatorId,
        expiresAt: new Date(Date.now() + opts.expiresInDays * 86400_000),
      },
      include,
    });
    await appendAudit(tx, { actor: opts.actor, action: "api_token.created", target: { type: "api_token", id: row.id }, details: { name: row.name, role: row.role, expiresAt: row.expiresAt } });
    return { ...toApiToken(row), token };
  });
}

export async function revokeApiToken(opts: { actor: Actor; id: string }): Promise<ApiToken> {
  return prisma.$transaction(async (tx) => {
    const row = await tx.apiToken.findUnique({ where: { id: opts.id } });
    if (!row) throw new NotFoundError("API token");
    if (row.revokedAt) throw new ConflictError("this API token is already revoked");
    const updated = await tx.apiToken.update({ where: { id: row.id }, data: { revokedAt: new Date() }, include });
    await appendAudit(tx, { actor: opts.actor, action: "api_token.revoked", target: { type: "api_token", id: row.id }, details: { name: row.name } });
    await notify(tx, { type: "auth.revoked", apiTokenId: row.id });
    return toApiToken(updated);
  });
}

/**
 * The actor behind a Bearer token, or null if it is unknown, revoked or expired, or its creator
 * is disabled. A token never acts above its creator's current role.
 */
export async function validateApiToken(token: string, ip: string | null): Promise<{ actor: Actor & { type: "api_token" }; creatorId: string } | null> {
  if (!token.startsWith("spl_api_") || token.length > 100) return null;
  const t = await prisma.apiToken.findUnique({ where: { tokenHash: sha256(token) }, include: { createdBy: { select: { role: true, disabledAt: true } } } });
  if (!t || t.revokedAt || t.expiresAt <= new Date() || t.createdBy.disabledAt) return null;
  // lastUsedAt is informational: update at most once a minute per token.
  if (!t.lastUsedAt || Date.now() - t.lastUsedAt.getTime() > 60_000) {
    await prisma.apiToken.update({ where: { id: t.id }, data: { lastUsedAt: new Date() } }).catch(() => {});
  }
  const role = roleAtLeast(t.createdBy.role, t.role) ? t.role : t.createdBy.role;
  return { actor: { type: "api_token", id: t.id, name: `token:${t.name}`, role, ip }, creatorId: t.createdById };
}
