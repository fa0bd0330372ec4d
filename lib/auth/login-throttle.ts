import "server-only";
import { prisma } from "@/lib/db/client";
import { decideAttempt, THROTTLE_POLICIES, type ThrottleState } from "./throttle-policy";

const PRUNE_EVERY_MS = 10 * 60 * 1000;
let lastPrune = 0;

export type AttemptVerdict = { allowed: true } | { allowed: false; retryAfterSec: number };

/**
 * Counts one sign-in attempt against a throttle key before the password is checked. The row is
 * locked for the decision, so parallel attempts are counted one after another: 30 parallel
 * guesses are 30 counted attempts, and only those the policy allows reach the password check.
 */
async function countAttempt(key: string, policy: keyof typeof THROTTLE_POLICIES, now: Date): Promise<AttemptVerdict> {
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`insert into "LoginThrottle" (key, attempts, "lastAt") values (${key}, 0, ${now}) on conflict (key) do nothing`;
    const [row] = await tx.$queryRaw<ThrottleState[]>`select attempts, "lastAt", "blockedUntil" from "LoginThrottle" where key = ${key} for update`;
    const d = decideAttempt(row, THROTTLE_POLICIES[policy], now);
    if (!d.allowed) return { allowed: false, retryAfterSec: d.retryAfterSec };
    await tx.$executeRaw`update "LoginThrottle" set attempts = ${d.next.attempts}, "lastAt" = ${d.next.lastAt}, "blockedUntil" = ${d.next.blockedUntil} where key = ${key}`;
    return { allowed: true };
  });
}

export const throttleKeys = (opts: { username: string; ip: string | null }) => {
  const source = opts.ip ?? "unknown";
  return { source: `src:${source}`, pair: `acct:${opts.username}|src:${source}` };
};

/**
 * One sign-in attempt: the source's budget first (a source spraying many accounts), then the
 * (account, source) pair's. Returns the verdict; the caller checks the password only if allowed.
 */
export async function admitLoginAttempt(opts: { username: string; ip: string | null }): Promise<AttemptVerdict> {
  const now = new Date();
  if (now.getTime() - lastPrune > PRUNE_EVERY_MS) {
    lastPrune = now.getTime();
    // Rows idle past every policy's reset are worth nothing.
    const oldest = new Date(now.getTime() - Math.max(...Object.values(THROTTLE_POLICIES).map((p) => p.resetAfterMs)));
    await prisma.$executeRaw`delete from "LoginThrottle" where "lastAt" < ${oldest} and ("blockedUntil" is null or "blockedUntil" < ${now})`;
  }
  const keys = throttleKeys(opts);
  const source = await countAttempt(keys.source, "source", now);
  if (!source.allowed) return source;
  return countAttempt(keys.pair, "pair", now);
}

/**
 * A correct password: the pair starts afresh and the source gets its attempt back, so people
 * signing in behind one address (an office NAT) do not use up its budget.
 */
export async function loginSucceeded(opts: { username: string; ip: string | null }): Promise<void> {
  const keys = throttleKeys(opts);
  await prisma.$executeRaw`delete from "LoginThrottle" where key = ${keys.pair}`;
  await prisma.$executeRaw`update "LoginThrottle" set attempts = greatest(attempts - 1, 0) where key = ${keys.source}`;
}
