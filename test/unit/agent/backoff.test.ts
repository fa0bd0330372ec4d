import { describe, expect, it } from "vitest";
import { Backoff } from "../../../agent/backoff";
import { mulberry32 } from "../../../agent/sim/profiles";

describe("Backoff", () => {
  it("doubles the ceiling from the base up to the cap", () => {
    const b = new Backoff({ baseMs: 1000, capMs: 60_000, random: () => 0.999999 });
    const ceilings: number[] = [];
    for (let i = 0; i < 10; i++) {
      ceilings.push(b.ceilingMs());
      b.next();
    }
    expect(ceilings).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000]);
  });

  it("draws every delay within [0, ceiling) and never exceeds the cap, even after many attempts", () => {
    const b = new Backoff({ baseMs: 1000, capMs: 60_000, random: mulberry32(42) });
    for (let i = 0; i < 5000; i++) {
      const ceiling = b.ceilingMs();
      const d = b.next();
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(ceiling);
      expect(Number.isInteger(d)).toBe(true);
    }
    expect(b.ceilingMs()).toBe(60_000);
  });

  it("spreads delays uniformly over the window (full jitter)", () => {
    // 20 000 agents at the cap: each tenth of [0, 60 s) should get about 10 % of them.
    const random = mulberry32(7);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 20_000; i++) {
      const b = new Backoff({ baseMs: 1000, capMs: 60_000, random });
      for (let k = 0; k < 8; k++) b.next();
      buckets[Math.floor(b.next() / 6000)]!++;
    }
    for (const count of buckets) {
      expect(count / 20_000).toBeGreaterThan(0.09);
      expect(count / 20_000).toBeLessThan(0.11);
    }
  });

  it("starts over from the base after reset()", () => {
    const b = new Backoff({ baseMs: 500, capMs: 8000, random: () => 0.5 });
    for (let i = 0; i < 6; i++) b.next();
    expect(b.ceilingMs()).toBe(8000);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(250);
  });

  it("rejects a cap below the base", () => {
    expect(() => new Backoff({ baseMs: 1000, capMs: 10 })).toThrow(RangeError);
  });
});
