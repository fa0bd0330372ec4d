import { describe, expect, it } from "vitest";
import { applyBlocker, functionName, includesOf, jobStacking, revertBlocker, sharedFunctions, stackingOf, type StackedBuild } from "@/lib/builds/stacking";
import { livepatchModuleName } from "@/lib/livepatch/module-name";

const A = "aaaaaaaa-0000-4000-8000-000000000001";
const B = "bbbbbbbb-0000-4000-8000-000000000002";
const C = "cccccccc-0000-4000-8000-000000000003";
const D = "dddddddd-0000-4000-8000-000000000004";
const fn = (name: string, object = "vmlinux") => ({ object, function: name });
const inc = (patchId: string, functions: string[]) => ({ patchId, title: patchId.slice(0, 1), functions });
const build = (patchId: string, replaced: string[], includes: StackedBuild["includes"] = []): StackedBuild => ({ patchId, replaced: replaced.map((n) => (n.includes(":") ? fn(n.split(":")[1]!, n.split(":")[0]) : fn(n))), includes });

describe("shared functions", () => {
  it.each([
    { a: ["f", "g"], b: ["g", "h"], shared: ["g"] },
    { a: ["f"], b: ["h"], shared: [] },
    // Same name, different klp_object: not the same function.
    { a: ["ext4:f"], b: ["f"], shared: [] },
    { a: ["ext4:f", "g"], b: ["g", "ext4:f"], shared: ["ext4:f", "g"] },
  ])("$a and $b share $shared", ({ a, b, shared }) => {
    expect(sharedFunctions(build(A, a).replaced, build(B, b).replaced)).toEqual(shared);
  });

  it("names a module's function with its module", () => {
    expect(functionName(fn("ext4_mb_load_buddy_gfp", "ext4"))).toBe("ext4:ext4_mb_load_buddy_gfp");
    expect(functionName(fn("cmdline_proc_show"))).toBe("cmdline_proc_show");
  });
});

describe("what a build includes", () => {
  it("every earlier patch applied first, each with the functions both replace", () => {
    const earlier = [
      { patchId: A, title: "A", replaced: [fn("f"), fn("g")] },
      { patchId: C, title: "C", replaced: [fn("h")] },
    ];
    expect(includesOf({ replaced: [fn("g"), fn("k")], earlier })).toEqual([
      { patchId: A, title: "A", functions: ["g"] },
      { patchId: C, title: "C", functions: [] },
    ]);
  });
});

describe("stacking of a build among the release's builds", () => {
  it.each([
    {
      case: "independent patches need nothing of each other",
      build: build(B, ["g"]),
      others: [build(A, ["f"])],
      want: { requires: [], conflicts: [], dependents: [] },
    },
    {
      case: "built on an earlier patch of the same function: needs it live",
      build: build(B, ["f"], [inc(A, ["f"])]),
      others: [build(A, ["f"])],
      want: { requires: [A], conflicts: [], dependents: [] },
    },
    {
      case: "an earlier patch of the same file but another function is in the source, not required",
      build: build(B, ["g"], [inc(A, [])]),
      others: [build(A, ["f"])],
      want: { requires: [], conflicts: [], dependents: [] },
    },
    {
      case: "a patch of the same function it was not built on: loading over it would undo it",
      build: build(B, ["f"]),
      others: [build(A, ["f"])],
      want: { requires: [], conflicts: [A], dependents: [] },
    },
    {
      case: "the base of a stack: the patch built on it is a dependent (and must not be live under a new load of it)",
      build: build(A, ["f"]),
      others: [build(A, ["f"]), build(B, ["f"], [inc(A, ["f"])])],
      want: { requires: [], conflicts: [B], dependents: [B] },
    },
    {
      case: "a stack of three: the top needs both below; the middle has the top as dependent",
      build: build(B, ["f"], [inc(A, ["f"])]),
      others: [build(A, ["f"]), build(C, ["f"], [inc(A, ["f"]), inc(B, ["f"])]), build(D, ["x"])],
      want: { requires: [A], conflicts: [C], dependents: [C] },
    },
  ])("$case", ({ build: b, others, want }) => {
    expect(stackingOf(b, others)).toEqual(want);
  });

  it("an apply job names the modules to be live and those not to be; a revert those built on it", () => {
    const s = { requires: [A], conflicts: [C], dependents: [D] };
    expect(jobStacking("apply", s)).toEqual({ requires: [livepatchModuleName(A)], blockedBy: [livepatchModuleName(C)] });
    expect(jobStacking("revert", s)).toEqual({ requires: [], blockedBy: [livepatchModuleName(D)] });
  });
});

describe("what keeps a host from loading or taking out a patch (the plan's reasons)", () => {
  const name = (id: string) => `patch ${id.slice(0, 1).toUpperCase()}`;
  const live = (...ids: string[]) => new Set(ids.map(livepatchModuleName));
  const a = build(A, ["f"]);
  const b = build(B, ["f"], [inc(A, ["f"])]);
  const stale = build(C, ["f"]);
  const others = [a, b, stale, build(D, ["x"])];

  it.each([
    { case: "built on A, A not live", build: b, live: live(), want: /^needs patch A live first: this patch was built on top of it \(both change f\)$/ },
    { case: "built on A, A live", build: b, live: live(A), want: null },
    { case: "A itself, B (built on it) live: loading A would put A's f over B's", build: a, live: live(B), want: /^would undo patch B's fix of f: live there/ },
    { case: "a build of f that carries neither, A live", build: stale, live: live(A), want: /^would undo patch A's fix of f/ },
    { case: "independent of what is live", build: build(D, ["x"]), live: live(A, B), want: null },
  ])("apply: $case", ({ build: x, live: l, want }) => {
    const got = applyBlocker({ build: x, others, live: l, name });
    if (want === null) expect(got).toBeNull();
    else expect(got).toMatch(want);
  });

  it.each([
    { case: "A with B (built on it) live", patchId: A, live: live(A, B), want: /^kept: patch B, built on top of this patch, is live there; roll it back first$/ },
    { case: "A with B not live", patchId: A, live: live(A), want: null },
    { case: "B, the top of the stack", patchId: B, live: live(A, B), want: null },
    { case: "a patch with no build for the release", patchId: D.replace("d", "e"), live: live(A, B), want: null },
  ])("revert: $case", ({ patchId, live: l, want }) => {
    const got = revertBlocker({ patchId, others, live: l, name });
    if (want === null) expect(got).toBeNull();
    else expect(got).toMatch(want);
  });
});
