import { describe, expect, it } from "vitest";
import { createSimulateBuilder, SIMULATED_FORMAT } from "@/lib/builds/builders/simulate";
import { livepatchModuleName } from "@/lib/livepatch/module-name";
import { BuildFailure } from "@/lib/builds/types";
import { analysis, PATCH_ID, request } from "./helpers";
import { rejectionOf } from "../../../../helpers/rejection";

const noSleep = async () => {};

const failure = (p: Promise<unknown>) => rejectionOf(p, BuildFailure);

describe("simulate builder", () => {
  it("produces a JSON artifact describing the replaced functions", async () => {
    const builder = createSimulateBuilder({ sleep: noSleep, now: () => new Date("2025-01-02T03:04:05Z") });
    expect(builder.name).toBe("simulate");
    const art = await builder.build(request());
    expect(art.moduleName).toBe("livepatch_6f1a2b3c4d5e");
    expect(art.fileName).toBe("livepatch_6f1a2b3c4d5e.json");
    const text = art.bytes.toString("utf8");
    expect(text).toContain('\n  "format"'); // pretty-printed
    expect(JSON.parse(text)).toEqual({
      format: SIMULATED_FORMAT,
      moduleName: "livepatch_6f1a2b3c4d5e",
      kernelRelease: "6.8.0-45-generic",
      patchId: PATCH_ID,
      replaces: [
        { name: "cmdline_proc_show", object: "vmlinux" },
        { name: "proc_cmdline_init", object: "vmlinux" },
      ],
      builtAt: "2025-01-02T03:04:05.000Z",
    });
  });

  it("reports the functions it replaces and, like kbuild, the earlier patches of its files it is built on", async () => {
    const builder = createSimulateBuilder({ sleep: noSleep });
    const replaced = (await builder.build(request())).report!.replaced.map((r) => r.function);
    const earlier = [
      { patchId: "00000000-0000-4000-8000-0000000000a1", title: "same function", diff: "", replaced: [{ object: "vmlinux", function: replaced[0]! }] },
      { patchId: "00000000-0000-4000-8000-0000000000a2", title: "same file", diff: "", replaced: [{ object: "vmlinux", function: "other_fn" }] },
    ];
    const req = request({ earlier });
    const art = await builder.build(req);
    expect(art.report?.includes).toEqual([
      { patchId: earlier[0]!.patchId, title: "same function", functions: [replaced[0]] },
      { patchId: earlier[1]!.patchId, title: "same file", functions: [] },
    ]);
    expect(req.lines).toContain(`built on top of "same function": both change ${replaced[0]}`);
  });

  it("builds needs-review patches too", async () => {
    const builder = createSimulateBuilder({ sleep: noSleep });
    const req = request({
      analysis: analysis({ verdict: "needs-review", reasons: [{ code: "x", impact: "review", message: "touches locking" }] }),
    });
    await expect(builder.build(req)).resolves.toMatchObject({ moduleName: "livepatch_6f1a2b3c4d5e" });
  });

  it("derives valid kernel module names from any patch id", () => {
    for (const id of [PATCH_ID, "ckz9x0abc000001", "not-hex-at-all!", "", "A".repeat(500), "DEADBEEF-0000-1111-2222-333344445555"]) {
      const name = livepatchModuleName(id);
      expect(name).toMatch(/^[A-Za-z0-9_]+$/);
      expect(name.length).toBeLessThanOrEqual(55);
      expect(name.startsWith("livepatch_")).toBe(true);
      expect(livepatchModuleName(id)).toBe(name); // stable
    }
    expect(livepatchModuleName("DEADBEEF-0000-1111-2222-333344445555")).toBe("livepatch_deadbeef0000");
    expect(livepatchModuleName("not-hex-a")).not.toBe(livepatchModuleName("not-hex-b"));
  });

  it("refuses a patch that requires a reboot, listing the reasons", async () => {
    const builder = createSimulateBuilder({ sleep: noSleep });
    const req = request({
      analysis: analysis({
        verdict: "requires-reboot",
        reasons: [
          { code: "struct_field_added", impact: "reboot", message: "struct sk_buff gains field frag_hint" },
          { code: "init_changed", impact: "reboot", message: "__init function net_dev_init changes" },
          { code: "locking", impact: "review", message: "changes locking" },
        ],
      }),
    });
    const err = await failure(builder.build(req));
    expect(err.reason).toBe("refused");
    expect(err.message).toBe("cannot live-patch: struct sk_buff gains field frag_hint; __init function net_dev_init changes");
    expect(req.lines).toContain(err.message);
  });

  it("emits the build steps as log lines, spaced over the delay", async () => {
    const sleeps: number[] = [];
    const builder = createSimulateBuilder({ delayMs: 2000, sleep: async (ms) => void sleeps.push(ms) });
    const req = request();
    await builder.build(req);
    expect(sleeps).toEqual([500, 500, 500, 500]);
    expect(req.lines[0]).toBe("applying patch to 6.8.0-45-generic source");
    expect(req.lines[1]).toMatch(/^building livepatch module livepatch_6f1a2b3c4d5e/);
    expect(req.lines[2]).toMatch(/^linking/);
    expect(req.lines[3]).toMatch(/^signing/);
    expect(req.lines).toHaveLength(5);
  });

  it("takes roughly its configured delay with the real clock", async () => {
    const builder = createSimulateBuilder({ delayMs: 120 });
    const t0 = performance.now();
    await builder.build(request());
    expect(performance.now() - t0).toBeGreaterThanOrEqual(100);
  });

  it("stops promptly on abort with reason timeout", async () => {
    const builder = createSimulateBuilder({ delayMs: 60_000 });
    const ac = new AbortController();
    const req = request({ signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const t0 = performance.now();
    const err = await failure(builder.build(req));
    expect(err.reason).toBe("timeout");
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(req.lines).toEqual(["applying patch to 6.8.0-45-generic source"]);
  });

  it("refuses to start when already aborted", async () => {
    const builder = createSimulateBuilder({ sleep: noSleep });
    const err = await failure(builder.build(request({ signal: AbortSignal.abort() })));
    expect(err.reason).toBe("timeout");
  });
});
