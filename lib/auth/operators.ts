import "server-only";
import type { Operator, Role } from "@/lib/api/schemas";
import type { Actor } from "@/lib/audit/actor";
import { appendAudit } from "@/lib/audit/append";
import { prisma } from "@/lib/db/client";
import { notify } from "@/lib/db/bus";
import { ConflictError, NotFoundError } from "@/lib/errors";
import { SYSTEM } from "@/lib/audit/actor";
import { generatePassword, hashPassword } from "./password";
import { assertStrongPassword } from "./password-strength";

type Row = { id: string; username: string; role: Role; createdAt: Date; disabledAt: Date | null };
const toOperator = (o: Row): Operator => ({
  id: o.id,
  username: o.username,
  role: o.role,
  createdAt: o.createdAt.toISOString(),
  disabledAt: o.disabledAt?.toISOString() ?? null,
});
const select = { id: true, username: true, role: true, createdAt: true, disabledAt: true } as const;

/**
 * Makes sure the `admin` operator exists. With `password`, (re)sets it to that; without, creates
 * it with a generated password. Returns the password only when the caller must show it.
 */
export async function ensureAdmin(opts: { password?: string }): Promise<{ created: boolean; password: string | null }> {
  const existing = await prisma.operator.findUnique({ where: { username: "admin" } });
  if (existing && !opts.password) return { created: false, password: null };
  if (opts.password) await assertStrongPassword({ password: opts.password, username: "admin" });
  const password = opts.password ?? generatePassword();
  const passwordHash = await hashPassword(password);
  await prisma.$transaction(async (tx) => {
    if (existing) {
      await tx.operator.update({ where: { id: existing.id }, data: { passwordHash, role: "admin", disabledAt: null } });
      await appendAudit(tx, { actor: SYSTEM, action: "operator.password_set", target: { type: "operator", id: existing.id }, details: { username: "admin", source: "SPLICER_ADMIN_PASSWORD" } });
    } else {
      const op = await tx.operator.create({ data: { username: "admin", passwordHash, role: "admin" } });
      await appendAudit(tx, { actor: SYSTEM, action: "operator.created", target: { type: "operator", id: op.id }, details: { username: "admin", role: "admin" } });
    }
  });
  return { created: !existing, password: opts.password ? null : password };
}

export async function listOperators(): Promise<Operator[]> {
  const rows = await prisma.operator.findMany({ orderBy: { username: "asc" }, select });
  return rows.map(toOperator);
}

export async function createOperator(opts: { actor: Actor; username: string; password: string; role: Role }): Promise<Operator> {
  await assertStrongPassword({ password: opts.password, username: opts.username });
  const passwordHash = await hashPassword(opts.password);
  return prisma.$transaction(async (tx) => {
    if (await tx.operator.findUnique({ where: { username: opts.username } })) {
      throw new ConflictError(`an operator named ${opts.username} already exists`);
    }
    const op = await tx.operator.create({ data: { username: opts.username, passwordHash, role: opts.role }, select });
    await appendAudit(tx, { actor: opts.actor, action: "operator.created", target: { type: "operator", id: op.id }, details: { username: op.username, role: op.role } });
    return toOperator(op);
  });
}

export async function updateOperator(opts: {
  actor: Actor;
  id: string;
  role?: Role;
  disabled?: boolean;
  password?: string;
}): Promise<Operator> {
  let passwordHash: string | undefined;
  if (opts.password) {
    const target = await prisma.operator.findUnique({ where: { id: opts.id }, select: { username: true } });
    if (!target) throw new NotFoundError("operator");
    await assertStrongPassword({ password: opts.password, username: target.username });
    passwordHash = await hashPassword(opts.password);
  }
  return prisma.$transaction(async (tx) => {
    const before = await tx.operator.findUnique({ where: { id: opts.id }, select });
    if (!before) throw new NotFoundError("operator");
    if (before.role === "admin" && (opts.disabled || (opts.role && opts.role !== "admin"))) {
      const admins = await tx.operator.count({ where: { role: "admin", disabledAt: null } });
      if (admins <= 1) throw new ConflictError("this is the last active admin; make another admin first", "last_admin");
    }
    const now = new Date();
    const op = await tx.operator.update({
      where: { id: opts.id },
      data: {
        ...(opts.role ? { role: opts.role } : {}),
        ...(opts.disabled !== undefined ? { disabledAt: opts.disabled ? now : null } : {}),
        ...(passwordHash ? { passwordHash } : {}),
      },
      select,
    });
    // Role changes, disabling and password resets end the operator's sessions everywhere.
    const sessions = await tx.session.deleteMany({ where: { operatorId: op.id } });
    // A disabled operator's API tokens die with them: automation must not outlive its owner.
    const tokens = opts.disabled
      ? await tx.apiToken.updateManyAndReturn({ where: { createdById: op.id, revokedAt: null }, data: { revokedAt: now }, select: { id: true, name: true } })
      : [];
    await appendAudit(tx, {
      actor: opts.actor,
      action: "operator.updated",
      target: { type: "operator", id: op.id },
      details: {
        username: op.username,
        ...(opts.role ? { role: { from: before.role, to: op.role } } : {}),
        ...(opts.disabled !== undefined ? { disabled: opts.disabled } : {}),
        ...(passwordHash ? { passwordReset: true } : {}),
        sessionsEnded: sessions.count,
        ...(opts.disabled ? { apiTokensRevoked: tokens.map((t) => ({ id: t.id, name: t.name })) } : {}),
      },
    });
    await notify(tx, { type: "auth.revoked", operatorSessions: op.id, ...(opts.disabled ? { operatorTokens: op.id } : {}) });
    return toOperator(op);
  });
}
