import { describe, expect, it } from "vitest";
import { automaticReapplies, type LostPatch } from "@/lib/rollouts/reconverge";

const lost = (over: Partial<LostPatch> = {}): LostPatch => ({ hostId: "h1", hostname: "web-1", patchId: "p1", online: true, cause: "removed", failedSince: false, requires: [], ...over });

describe("automaticReapplies", () => {
  it.each([
    ["removed by hand, online: re-applied", lost(), true],
    ["rebooted without a reload: re-applied", lost({ cause: "rebooted" }), true],
    ["the kept copy was refused: re-applied (a fresh download)", lost({ cause: "reload_refused" }), true],
    ["the kernel refused the reload: tried once more", lost({ cause: "reload_failed" }), true],
    ["reloading turned off for its groups: the operator's choice stands", lost({ cause: "reload_disabled" }), false],
    ["offline: it would only time out", lost({ online: false }), false],
    ["a re-apply already failed since: needs a person, not a loop", lost({ failedSince: true }), false],
  ] as const)("%s", (_name, l, reapplied) => {
    expect(automaticReapplies([l], "auto").get("p1") ?? []).toEqual(reapplied ? ["h1"] : []);
  });

  it("does nothing when the setting only flags, and groups hosts by patch", () => {
    const all = [lost(), lost({ hostId: "h2" }), lost({ hostId: "h3", patchId: "p2" })];
    expect(automaticReapplies(all, "flag").size).toBe(0);
    expect([...automaticReapplies(all, "auto")]).toEqual([
      ["p1", ["h1", "h2"]],
      ["p2", ["h3"]],
    ]);
  });

  it("a patch built on another the host lost too waits for that one: the base goes back first, the top on a later pass", () => {
    const base = lost({ patchId: "base" });
    const top = lost({ patchId: "top", requires: ["base"] });
    const elsewhere = lost({ hostId: "h2", patchId: "top", requires: ["base"] });
    expect([...automaticReapplies([top, base, elsewhere], "auto")]).toEqual([
      ["base", ["h1"]],
      ["top", ["h2"]],
    ]);
    expect([...automaticReapplies([top], "auto")]).toEqual([["top", ["h1"]]]);
  });
});
