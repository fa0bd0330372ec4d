import { describe, expect, it } from "vitest";
import { resolveCount, RolloutStrategySchema } from "@/lib/api/schemas";
import { planWaves } from "@/lib/rollouts/plan";

const strategy = (s: Record<string, unknown> = {}) => RolloutStrategySchema.parse(s);
const hosts = (n: number, f: (i: number) => Partial<{ online: boolean; ready: boolean; kernelRelease: string }> = () => ({})) =>
  Array.from({ length: n }, (_, i) => ({ hostname: `h${String(i).padStart(3, "0")}`, kernelRelease: "6.1.0-50-amd64", online: true, ready: true, ...f(i) }));

describe("resolveCount", () => {
  it("takes counts as they are and rounds percentages up", () => {
    expect(resolveCount(3, 100)).toBe(3);
    expect(resolveCount("25%", 100)).toBe(25);
    expect(resolveCount("25%", 10)).toBe(3);
    expect(resolveCount("1%", 10)).toBe(1);
    expect(resolveCount("0%", 10)).toBe(0);
    expect(resolveCount("100%", 7)).toBe(7);
    expect(resolveCount("33.3%", 3)).toBe(1);
  });
});

describe("RolloutStrategySchema", () => {
  it("fills the defaults the issue names", () => {
    expect(strategy()).toEqual({ canary: 1, waves: "25%", maxInFlight: 50, failureBudget: 0, pauseAfterCanary: false, waitBetweenWavesSec: 0, hostTimeoutSec: 120 });
  });

  it.each([
    [{ waves: 0 }, "a wave needs at least 1 host"],
    [{ waves: "0%" }, "a wave needs at least 1 host"],
    [{ waves: "150%" }, "at most 100%"],
    [{ waves: "abc" }, 'a host count (e.g. 5) or a percentage (e.g. "25%")'],
    [{ failureBudget: true }, 'a host count (e.g. 5) or a percentage (e.g. "25%")'],
    [{ failureBudget: -1 }, "cannot be negative"],
    [{ maxInFlight: 0 }, "at least 1 host must be allowed in flight"],
    [{ canary: 0, pauseAfterCanary: true }, "pausing after the canary needs at least one canary host"],
    [{ hostTimeoutSec: 1 }, "at least 5 s"],
    [{ canary: 1.5 }, "expected int"],
    [{ wave: "25%" }, "Unrecognized key"],
  ])("refuses %j with a clear message", (input, message) => {
    const r = RolloutStrategySchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message).join("\n")).toContain(message);
  });
});

describe("planWaves", () => {
  it("puts the canary first, then waves of the given share of the rest", () => {
    const waves = planWaves(hosts(9), strategy());
    expect(waves.map((w) => w.length)).toEqual([1, 2, 2, 2, 2]);
    expect(new Set(waves.flat()).size).toBe(9);
  });

  it("takes waves by count", () => {
    expect(planWaves(hosts(10), strategy({ canary: 2, waves: 3 })).map((w) => w.length)).toEqual([2, 3, 3, 2]);
  });

  it("has an empty canary wave without a canary, so wave 1 is always the first real wave", () => {
    expect(planWaves(hosts(4), strategy({ canary: 0, waves: "50%" })).map((w) => w.length)).toEqual([0, 2, 2]);
  });

  it("chooses canaries that are online, have their build, and run the most common kernel", () => {
    const list = hosts(6, (i) => ({ online: i !== 0, ready: i !== 1, kernelRelease: i >= 4 ? "6.1.0-50-amd64" : "5.10.0-30-amd64" }));
    const [canary] = planWaves(list, strategy({ canary: 1 }));
    // h000 offline, h001 not built; h002 and h003 run 5.10 (4 hosts) which is the most common kernel.
    expect(canary.map((h) => h.hostname)).toEqual(["h002"]);
  });

  it("never makes a canary larger than the host list", () => {
    expect(planWaves(hosts(2), strategy({ canary: 5 })).map((w) => w.length)).toEqual([2]);
  });
});
