// The sign-in throttle's decision, pure (no clock, no database) so that it can be tested as a table.

export interface ThrottlePolicy {
  /** Attempts allowed back to back before any wait. */
  free: number;
  /** The wait after the `free`-th attempt; it doubles with each further attempt… */
  baseMs: number;
  /** …up to this. */
  maxMs: number;
  /** An idle key (no attempt for this long, not blocked) starts afresh. */
  resetAfterMs: number;
}

export interface ThrottleState {
  attempts: number;
  lastAt: Date;
  blockedUntil: Date | null;
}

export type ThrottleDecision = { allowed: true; next: ThrottleState } | { allowed: false; retryAfterSec: number };

/**
 * Exponential backoff per key, never a lock: an (account, source) pair gets 5 attempts, then one
 * per 1, 2, 4 … s up to one per 15 min; a source gets 20 across all accounts before the same.
 * Because the owner's own source is a different pair, an attacker elsewhere slows only
 * themselves; and a wrong guess from the owner's address waits seconds, not 15 minutes.
 */
export const THROTTLE_POLICIES = {
  pair: { free: 5, baseMs: 1000, maxMs: 15 * 60_000, resetAfterMs: 60 * 60_000 },
  source: { free: 20, baseMs: 1000, maxMs: 15 * 60_000, resetAfterMs: 60 * 60_000 },
} satisfies Record<string, ThrottlePolicy>;

export function backoffMs(attempts: number, p: ThrottlePolicy): number {
  if (attempts < p.free) return 0;
  return Math.min(p.baseMs * 2 ** Math.min(attempts - p.free, 30), p.maxMs);
}

/** Whether one more attempt may go ahead now, and the key's state after it. */
export function decideAttempt(state: ThrottleState, p: ThrottlePolicy, now: Date): ThrottleDecision {
  const t = now.getTime();
  const blockedUntil = state.blockedUntil?.getTime() ?? 0;
  if (blockedUntil > t) return { allowed: false, retryAfterSec: Math.max(1, Math.ceil((blockedUntil - t) / 1000)) };
  const idle = t - state.lastAt.getTime() > p.resetAfterMs;
  const attempts = (idle ? 0 : state.attempts) + 1;
  const wait = backoffMs(attempts, p);
  return { allowed: true, next: { attempts, lastAt: now, blockedUntil: wait > 0 ? new Date(t + wait) : null } };
}
