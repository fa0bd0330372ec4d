import "server-only";
import type { Me } from "@/lib/api/schemas";
import { appendAudit } from "@/lib/audit/append";
import { prisma } from "@/lib/db/client";
import { RateLimitedError, UnauthorizedError } from "@/lib/errors";
import { hashPassword, verifyPassword } from "./password";
import { createSession } from "./sessions";

// Failed attempts are audit events anyway; counting them there makes the limit hold across
// every console process and restarts, with no extra table.
const WINDOW_MS = 15 * 60 * 1000;
const MAX_FAILURES_PER_USER = 5;
const MAX_FAILURES_PER_IP = 20;
// Compared against when the username does not exist, so timing does not reveal which do.
let dummyHash: Promise<string> | null = null;

export async function login(opts: {
  username: string;
  password: string;
  ip: string | null;
  userAgent: string | null;
}): Promise<{ token: string; expiresAt: Date; operator: Me }> {
  const username = opts.username.trim().toLowerCase();
  const since = new Date(Date.now() - WINDOW_MS);
  const [userFailures, ipFailures] = await Promise.all([
    prisma.auditEvent.count({ where: { action: "auth.login_failed", at: { gte: since }, actorName: username } }),
    opts.ip ? prisma.auditEvent.count({ where: { action: "auth.login_failed", at: { gte: since }, sourceIp: opts.ip } }) : 0,
  ]);
  if (userFailures >= MAX_FAILURES_PER_USER || ipFailures >= MAX_FAILURES_PER_IP) {
    throw new RateLimitedError("too many failed sign-ins; try again in 15 minutes", WINDOW_MS / 1000);
  }
  const op = await prisma.operator.findUnique({ where: { username } });
  dummyHash ??= hashPassword("not a password");
  const ok = await verifyPassword(opts.password, op?.passwordHash ?? (await dummyHash));
  if (!op || !ok || op.disabledAt) {
    await prisma.$transaction((tx) =>
      appendAudit(tx, {
        actor: { type: "operator", id: op?.id ?? null, name: username, ip: opts.ip },
        action: "auth.login_failed",
        target: op ? { type: "operator", id: op.id } : null,
        details: { reason: !op ? "unknown user" : op.disabledAt ? "operator disabled" : "wrong password" },
      }),
    );
    throw new UnauthorizedError("wrong username or password", "bad_credentials");
  }
  return prisma.$transaction(async (tx) => {
    const session = await createSession(tx, { operatorId: op.id, ip: opts.ip, userAgent: opts.userAgent });
    await appendAudit(tx, {
      actor: { type: "operator", id: op.id, name: op.username, ip: opts.ip },
      action: "auth.login",
      target: { type: "operator", id: op.id },
      details: { userAgent: opts.userAgent?.slice(0, 200) ?? null },
    });
    return { ...session, operator: { id: op.id, username: op.username, role: op.role, via: "session" as const } };
  });
}
