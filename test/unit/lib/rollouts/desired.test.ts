import { describe, expect, it } from "vitest";
import type { ReloadReport } from "@/agent/protocol";
import { livepatchModuleName } from "@/lib/livepatch/module-name";
import { driftOf, type DesiredRow } from "@/lib/rollouts/desired";

const P = "5d0c9a4e-1111-4a2b-9c3d-000000000001";
const Q = "7e1f0b5a-2222-4b3c-8d4e-000000000002";
const M = livepatchModuleName(P);
const desired = (over: Partial<DesiredRow> = {}): DesiredRow => ({ patchId: P, title: "fix", rolloutId: "r1", appliedBootId: "boot-1", appliedAt: new Date("2026-12-01T10:00:00Z"), ...over });
const report = (outcome: ReloadReport["patches"][number]["outcome"], reason?: string): ReloadReport => ({
  bootId: "boot-2",
  at: "2026-12-02T08:00:00Z",
  patches: [{ moduleName: M, patchId: P, kernelRelease: "r", outcome, ...(reason ? { reason } : {}) }],
});
const patches = new Map([[M, { id: P, title: "fix" }], [livepatchModuleName(Q), { id: Q, title: "other" }]]);

describe("driftOf", () => {
  it.each([
    ["live and enabled: no drift", "boot-1", [{ name: M, enabled: true, transition: false }], null, null],
    ["loaded but disabled", "boot-1", [{ name: M, enabled: false, transition: false }], null, "disabled"],
    ["gone in the boot it was applied in: taken out by hand", "boot-1", [], null, "removed"],
    ["rebooted, the agent said nothing about it: not reloaded", "boot-2", [], null, "rebooted"],
    ["rebooted, the kernel refused the reload", "boot-2", [], report("failed", "insmod: Invalid module format"), "reload_failed"],
    ["rebooted, the agent refused its kept copy", "boot-2", [], report("refused", "artifact hash mismatch"), "reload_refused"],
    ["rebooted with reloading turned off", "boot-2", [], report("disabled"), "reload_disabled"],
    ["reloaded at boot and taken out since", "boot-2", [], report("loaded"), "removed"],
  ] as const)("%s", (_name, bootId, livepatches, reloadReport, cause) => {
    const d = driftOf({ host: { bootId, livepatches, reloadReport }, desired: [desired()], patches, open: new Set() });
    expect(d.unexpected).toEqual([]);
    if (cause === null) expect(d.missing).toEqual([]);
    else expect(d.missing).toEqual([expect.objectContaining({ patchId: P, moduleName: M, cause, why: expect.any(String) })]);
  });

  it("names the reload's reason, and ignores a report from an earlier boot", () => {
    const failed = driftOf({ host: { bootId: "boot-2", livepatches: [], reloadReport: report("failed", "insmod: Invalid module format") }, desired: [desired()], patches, open: new Set() });
    expect(failed.missing[0]?.why).toContain("insmod: Invalid module format");
    const stale = driftOf({ host: { bootId: "boot-3", livepatches: [], reloadReport: report("loaded") }, desired: [desired()], patches, open: new Set() });
    expect(stale.missing[0]?.cause).toBe("rebooted");
  });

  it("applied before boots were recorded", () => {
    const d = driftOf({ host: { bootId: "boot-1", livepatches: [], reloadReport: null }, desired: [desired({ appliedBootId: null })], patches, open: new Set() });
    expect(d.missing[0]?.cause).toBe("unrecorded");
  });

  it("a staged patch's module live that no rollout applied for this kernel is unexpected; a module Splicer does not know is not its business", () => {
    const d = driftOf({
      host: { bootId: "boot-1", livepatches: [{ name: livepatchModuleName(Q), enabled: true, transition: false }, { name: "kpatch_vendor_fix", enabled: true, transition: false }], reloadReport: null },
      desired: [],
      patches,
      open: new Set(),
    });
    expect(d).toEqual({ missing: [], unexpected: [{ patchId: Q, title: "other", moduleName: livepatchModuleName(Q) }] });
  });

  it("leaves out patches with a rollout still open on the host: it decides them", () => {
    const d = driftOf({
      host: { bootId: "boot-1", livepatches: [{ name: livepatchModuleName(Q), enabled: true, transition: false }], reloadReport: null },
      desired: [desired()],
      patches,
      open: new Set([P, Q]),
    });
    expect(d).toEqual({ missing: [], unexpected: [] });
  });
});
