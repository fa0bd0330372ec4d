import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SIMULATED_ARTIFACT_FORMAT, SimulatedKernel } from "../../../../agent/backends/simulate";
import { MemoryKeptPatches, type KeptPatch } from "../../../../agent/boot/kept-patches";
import { BootReloader, planReload, type BootFacts } from "../../../../agent/boot/reload";
import { artifactSignaturePayload, RELOAD, type ArtifactSignedFields } from "../../../../agent/protocol";

const R = "6.1.0-54-amd64";
const V = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.190-1 (2026-10-01)";
const boot = (bootId: string, over: Partial<BootFacts> = {}): BootFacts => ({ bootId, kernelRelease: R, kernelVersion: V, ...over });
const PATCH = "5d0c9a4e-1111-4a2b-9c3d-000000000001";
const module = (moduleName: string) => Buffer.from(JSON.stringify({ format: SIMULATED_ARTIFACT_FORMAT, moduleName, kernelRelease: R, patchId: PATCH }));
const rec = (moduleName: string, over: Partial<KeptPatch> = {}): KeptPatch => ({
  moduleName,
  patchId: "5d0c9a4e-1111-4a2b-9c3d-000000000001",
  kernelRelease: R,
  artifactSha256: "ab".repeat(32),
  signature: "c2ln",
  kernelVersion: V,
  bootId: "boot-1",
  keptAt: "2026-12-01T10:00:00.000Z",
  requires: [],
  ...over,
});

describe("planReload", () => {
  it.each([
    ["a new boot of the same kernel loads it", rec("lp_a"), boot("boot-2"), [], true, { do: "load" }],
    ["another release is reported, not loaded", rec("lp_a"), boot("boot-2", { kernelRelease: "6.1.0-55-amd64" }), [], true, { do: "report", outcome: "other_kernel" }],
    ["the same release rebuilt (another uname -v) is another kernel", rec("lp_a"), boot("boot-2", { kernelVersion: "#2 SMP" }), [], true, { do: "report", outcome: "other_kernel" }],
    ["already live (something else loaded it) is not loaded twice", rec("lp_a"), boot("boot-2"), ["lp_a"], true, { do: "report", outcome: "already_live" }],
    ["turned off for the host's groups", rec("lp_a"), boot("boot-2"), [], false, { do: "report", outcome: "disabled" }],
    ["applied in this boot and taken out since: left to the console", rec("lp_a"), boot("boot-1"), [], true, { do: "skip" }],
  ] as const)("%s", (_name, r, b, live, enabled, want) => {
    const [step] = planReload({ kept: [r], boot: b, live: new Set(live), enabled });
    expect(step).toMatchObject(want);
  });

  it("goes in the order the patches were applied", () => {
    const steps = planReload({
      kept: [rec("lp_b", { keptAt: "2026-12-01T12:00:00.000Z" }), rec("lp_a", { keptAt: "2026-12-01T11:00:00.000Z" })],
      boot: boot("boot-2"),
      live: new Set(),
      enabled: true,
    });
    expect(steps.map((s) => s.rec.moduleName)).toEqual(["lp_a", "lp_b"]);
  });
});

describe("BootReloader", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const consoleKey = publicKey.export({ type: "spki", format: "pem" }) as string;
  const signed = (moduleName: string, bytes: Uint8Array): { fields: ArtifactSignedFields; signature: string } => {
    const fields = { artifactSha256: createHash("sha256").update(bytes).digest("hex"), patchId: PATCH, kernelRelease: R, moduleName };
    return { fields, signature: sign(null, Buffer.from(artifactSignaturePayload(fields)), privateKey).toString("base64") };
  };
  const setup = async () => {
    const kernel = new SimulatedKernel({ kernelRelease: R, kernelVersion: V, bootId: "boot-1" });
    const store = new MemoryKeptPatches();
    const facts = async () => ({ bootId: kernel.inventoryOverrides().bootId!, kernelRelease: R, kernelVersion: V });
    const reloader = (key: string | null = consoleKey) => new BootReloader({ store, backend: kernel, boot: facts, consoleKey: async () => key });
    return { kernel, store, reloader };
  };
  const keepApplied = async (s: Awaited<ReturnType<typeof setup>>, moduleName: string, bytes = module(moduleName), requires: string[] = []) => {
    await s.kernel.apply({ moduleName, artifact: bytes, timeoutMs: 1000 });
    await s.store.keep({ ...signed(moduleName, bytes), bytes, kernelVersion: V, bootId: "boot-1", requires });
  };

  it("loads the kept patches again after a reboot, once per boot, and reports it", async () => {
    const s = await setup();
    await keepApplied(s, "lp_a");
    s.kernel.reboot();
    expect(await s.kernel.listLivepatches()).toEqual([]);
    const report = await s.reloader().run();
    expect(report?.patches).toEqual([{ moduleName: "lp_a", patchId: expect.any(String), kernelRelease: R, outcome: RELOAD.loaded }]);
    expect((await s.kernel.listLivepatches()).map((l) => [l.name, l.enabled])).toEqual([["lp_a", true]]);
    // The agent restarting in the same boot changes nothing.
    const again = await s.reloader().run();
    expect(again).toEqual(report);
    expect(s.kernel.operations.filter((o) => o.kind === "apply")).toHaveLength(2);
  });

  it("refuses a kept module whose bytes changed on disk, and one it cannot verify without a pinned key", async () => {
    const s = await setup();
    await keepApplied(s, "lp_a");
    const { fields, signature } = signed("lp_b", module("lp_b"));
    await s.store.keep({ fields, signature, bytes: Buffer.from("tampered"), kernelVersion: V, bootId: "boot-1" });
    s.kernel.reboot();
    const report = await s.reloader().run();
    expect(report?.patches.map((p) => [p.moduleName, p.outcome])).toEqual([["lp_a", RELOAD.loaded], ["lp_b", RELOAD.refused]]);
    expect(report?.patches[1]?.reason).toMatch(/hash mismatch/);
    expect((await s.kernel.listLivepatches()).map((l) => l.name)).toEqual(["lp_a"]);

    s.kernel.reboot();
    const unpinned = await s.reloader(null).run();
    expect(unpinned?.patches.every((p) => p.outcome === RELOAD.refused && /no console key/.test(p.reason ?? ""))).toBe(true);
    expect(await s.kernel.listLivepatches()).toEqual([]);
  });

  it("loads a patch built on another only once that one is live: a base that did not load keeps the top out too", async () => {
    const s = await setup();
    await keepApplied(s, "lp_base");
    await keepApplied(s, "lp_top", module("lp_top"), ["lp_base"]);
    s.kernel.reboot();
    const ok = await s.reloader().run();
    expect(ok?.patches.map((p) => [p.moduleName, p.outcome])).toEqual([["lp_base", RELOAD.loaded], ["lp_top", RELOAD.loaded]]);

    // The base's kept file is damaged: it is refused, and the top is not loaded without it.
    const d = await setup();
    const { fields, signature } = signed("lp_base", module("lp_base"));
    await d.store.keep({ fields, signature, bytes: Buffer.from("damaged"), kernelVersion: V, bootId: "boot-1" });
    await keepApplied(d, "lp_top", module("lp_top"), ["lp_base"]);
    d.kernel.reboot();
    const report = await d.reloader().run();
    expect(report?.patches.map((p) => [p.moduleName, p.outcome])).toEqual([["lp_base", RELOAD.refused], ["lp_top", RELOAD.refused]]);
    expect(report?.patches[1]?.reason).toMatch(/built on top of lp_base, which is not live/);
    expect(await d.kernel.listLivepatches()).toEqual([]);
  });

  it("reports a load the kernel refused, and loads nothing when turned off", async () => {
    const s = await setup();
    await keepApplied(s, "lp_a");
    s.kernel.reboot();
    s.kernel.setBehavior({ forceFailure: "refused" });
    const failed = await s.reloader().run();
    expect(failed?.patches[0]).toMatchObject({ outcome: RELOAD.failed, reason: expect.stringMatching(/.+/) });

    s.kernel.setBehavior({ forceFailure: null });
    await s.store.setReloadEnabled(false);
    s.kernel.reboot();
    const off = await s.reloader().run();
    expect(off?.patches.map((p) => p.outcome)).toEqual([RELOAD.disabled]);
    expect(await s.kernel.listLivepatches()).toEqual([]);
  });
});
