import { describe, expect, it } from "vitest";
import { backoffMs, decideAttempt, THROTTLE_POLICIES, type ThrottlePolicy, type ThrottleState } from "@/lib/auth/throttle-policy";

const P: ThrottlePolicy = { free: 5, baseMs: 1000, maxMs: 15 * 60_000, resetAfterMs: 60 * 60_000 };
const T0 = new Date("2026-12-01T00:00:00Z");
const at = (ms: number) => new Date(T0.getTime() + ms);
const state = (attempts: number, lastAtMs: number, blockedUntilMs: number | null): ThrottleState => ({
  attempts,
  lastAt: at(lastAtMs),
  blockedUntil: blockedUntilMs === null ? null : at(blockedUntilMs),
});

describe("sign-in throttle decision", () => {
  it.each([
    // [what, state before, now (ms after T0), allowed, attempts after, blocked for (ms) after / retry-after (s)]
    ["a fresh key is allowed, no wait", state(0, 0, null), 0, true, 1, 0],
    ["the 4th attempt is still free", state(3, 0, null), 10, true, 4, 0],
    ["the 5th (last free) attempt starts a 1 s wait", state(4, 0, null), 10, true, 5, 1000],
    ["while blocked: refused, retry after the rest of the wait", state(5, 0, 1000), 200, false, 5, 1],
    ["a retry-after is never 0", state(5, 0, 1000), 999, false, 5, 1],
    ["after the wait: allowed, the wait doubles", state(5, 0, 1000), 1000, true, 6, 2000],
    ["the 10th attempt waits 32 s", state(9, 0, 1000), 60_000, true, 10, 32_000],
    ["the wait is capped at 15 min", state(40, 0, 1000), 60_000, true, 41, 15 * 60_000],
    ["blocked for a long time: retry-after in whole seconds, rounded up", state(20, 0, 900_000), 100_500, false, 20, 800],
    ["an hour idle and not blocked: starts afresh", state(12, 0, 1000), 60 * 60_000 + 1, true, 1, 0],
    ["not quite an hour idle: keeps counting", state(12, 0, 1000), 60 * 60_000, true, 13, 256_000],
  ] as const)("%s", (_what, before, nowMs, allowed, attemptsAfter, waitOrRetry) => {
    const d = decideAttempt(before, P, at(nowMs));
    expect(d.allowed).toBe(allowed);
    if (d.allowed) {
      expect(d.next.attempts).toBe(attemptsAfter);
      expect(d.next.lastAt).toEqual(at(nowMs));
      expect(d.next.blockedUntil ? d.next.blockedUntil.getTime() - at(nowMs).getTime() : 0).toBe(waitOrRetry);
    } else {
      expect(d.retryAfterSec).toBe(waitOrRetry);
    }
  });

  it("lets exactly `free` attempts through back to back, then refuses until the wait is over", () => {
    let s = state(0, 0, null);
    const verdicts: boolean[] = [];
    for (let i = 0; i < 30; i++) {
      const d = decideAttempt(s, P, at(5));
      verdicts.push(d.allowed);
      if (d.allowed) s = d.next;
    }
    expect(verdicts.filter(Boolean)).toHaveLength(5);
    expect(verdicts.slice(0, 5).every(Boolean)).toBe(true);
  });

  it("backs off exponentially per attempt", () => {
    expect([4, 5, 6, 7, 8, 9, 14, 15, 100].map((n) => backoffMs(n, P))).toEqual([0, 1000, 2000, 4000, 8000, 16000, 512_000, 900_000, 900_000]);
  });

  it("gives a source more room than one account from it", () => {
    expect(THROTTLE_POLICIES.source.free).toBeGreaterThan(THROTTLE_POLICIES.pair.free);
    expect(THROTTLE_POLICIES.pair.maxMs).toBeLessThanOrEqual(15 * 60_000);
  });
});
