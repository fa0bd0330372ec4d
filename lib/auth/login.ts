import "server-only";
import type { Me } from "@/lib/api/schemas";
import { appendAudit } from "@/lib/audit/append";
import { prisma } from "@/lib/db/client";
import { RateLimitedError, UnauthorizedError } from "@/lib/errors";
import { hashPassword, verifyPassword } from "./password";
import { admitLoginAttempt, loginSucceeded } from "./login-throttle";
import { createSession } from "./sessions";

// Compared against when the username does not exist, so timing does not reveal which do.
let dummyHash: Promise<string> | null = null;

/**
 * Signs an operator in. Every attempt is counted by the throttle (lib/auth/login-throttle.ts)
 * before the password is looked at; a refused attempt is a 429 with Retry-After and costs no
 * password check. Failed attempts are audited.
 */
export async function login(opts: {
  username: string;
  password: string;
  ip: string | null;
  userAgent: string | null;
}): Promise<{ token: string; expiresAt: Date; operator: Me }> {
  const username = opts.username.trim().toLowerCase();
  const verdict = await admitLoginAttempt({ username, ip: opts.ip });
  if (!verdict.allowed) {
    throw new RateLimitedError(`too many sign-in attempts from your address; try again in ${verdict.retryAfterSec} s`, verdict.retryAfterSec);
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
  await loginSucceeded({ username, ip: opts.ip });
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
