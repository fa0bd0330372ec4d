import "server-only";
import type { EnrollmentToken } from "@/lib/api/schemas";
import type { Actor } from "@/lib/audit/actor";
import { appendAudit } from "@/lib/audit/append";
import { newSecret, secretPrefix, sha256 } from "@/lib/crypto";
import { prisma } from "@/lib/db/client";
import { ConflictError, NotFoundError } from "@/lib/errors";

type Row = { id: string; prefix: string; note: string; maxUses: number; uses: number; expiresAt: Date; revokedAt: Date | null; createdAt: Date };

export function tokenState(t: Row, now = new Date()): EnrollmentToken["state"] {
  if (t.revokedAt) return "revoked";
  if (t.expiresAt <= now) return "expired";
  if (t.uses >= t.maxUses) return "used_up";
  return "active";
}

const toDto = (t: Row): EnrollmentToken => ({
  id: t.id,
  prefix: t.prefix,
  note: t.note,
  maxUses: t.maxUses,
  uses: t.uses,
  expiresAt: t.expiresAt.toISOString(),
  revokedAt: t.revokedAt?.toISOString() ?? null,
  createdAt: t.createdAt.toISOString(),
  state: tokenState(t),
});

export async function createEnrollmentToken(opts: {
  actor: Actor;
  note?: string;
  maxUses: number;
  expiresInHours: number;
}): Promise<EnrollmentToken & { token: string }> {
  const token = newSecret("enr");
  return prisma.$transaction(async (tx) => {
    const row = await tx.enrollmentToken.create({
      data: {
        prefix: secretPrefix(token),
        tokenHash: sha256(token),
        note: opts.note ?? "",
        maxUses: opts.maxUses,
        expiresAt: new Date(Date.now() + opts.expiresInHours * 3600_000),
        createdById: opts.actor.type === "operator" ? opts.actor.id : null,
      },
    });
    await appendAudit(tx, {
      actor: opts.actor,
      action: "enrollment_token.created",
      target: { type: "enrollment_token", id: row.id },
      details: { prefix: row.prefix, note: row.note, maxUses: row.maxUses, expiresAt: row.expiresAt },
    });
    return { ...toDto(row), token };
  });
}

export async function listEnrollmentTokens(): Promise<EnrollmentToken[]> {
  const rows = await prisma.enrollmentToken.findMany({ orderBy: { createdAt: "desc" }, take: 500 });
  return rows.map(toDto);
}

export async function revokeEnrollmentToken(opts: { actor: Actor; id: string }): Promise<EnrollmentToken> {
  return prisma.$transaction(async (tx) => {
    const row = await tx.enrollmentToken.findUnique({ where: { id: opts.id } });
    if (!row) throw new NotFoundError("enrollment token");
    if (row.revokedAt) throw new ConflictError("this enrollment token is already revoked");
    const updated = await tx.enrollmentToken.update({ where: { id: row.id }, data: { revokedAt: new Date() } });
    await appendAudit(tx, { actor: opts.actor, action: "enrollment_token.revoked", target: { type: "enrollment_token", id: row.id }, details: { prefix: row.prefix } });
    return toDto(updated);
  });
}
