// The wire contract's text rule: every string field refuses what Postgres cannot store, and says which field.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { EnrollRequestSchema, InventorySchema, JobUpdateSchema, toStorableText, unstorableText } from "@/agent/protocol";

const jobId = "0b7c1a7e-5d0e-4c52-9b55-0d1f3b1c2a10";

describe("storable text", () => {
  it("accepts any well-formed text, emoji (surrogate pairs) included", () => {
    for (const s of ["", "plain", "ünïcödé", "😀 pair", "tab\tand\nnewline", "\uFFFD"]) expect(unstorableText(s)).toBeNull();
  });

  it("names a NUL and each kind of unpaired surrogate", () => {
    expect(unstorableText("a\u0000")).toMatch(/NUL character .* offset 1/);
    expect(unstorableText("\uD800x")).toMatch(/unpaired UTF-16 surrogate \(\\ud800\) at offset 0/);
    expect(unstorableText("x\uDC00")).toMatch(/unpaired UTF-16 surrogate \(\\udc00\) at offset 1/);
    expect(unstorableText("end \uD83D")).toMatch(/unpaired/);
  });

  it("refuses them in every string field of agent messages, naming the field", () => {
    const r = JobUpdateSchema.safeParse({ jobId, phase: "failed", error: "\u0000", log: ["ok", "\uD800"], blockingTasks: [{ pid: 1, comm: "a\uDC00" }] });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["error", "log.1", "blockingTasks.0.comm"]));
    expect(z.prettifyError(r.error!)).toMatch(/→ at error/);

    const inv = InventorySchema.safeParse({
      hostname: "h\u0000", machineId: "m", bootId: "", kernelRelease: "6.1.0-50-amd64", kernelVersion: "", distro: { id: "debian", name: "\uD800", version: "12" },
      arch: "x86_64", uptimeSec: 1, cpuCount: 1, memoryBytes: 1, livepatches: [], agentVersion: "1",
    });
    expect(inv.error!.issues.map((i) => i.path.join("."))).toEqual(["hostname", "distro.name"]);
    const enroll = EnrollRequestSchema.safeParse({ enrollmentToken: "spl_enr_12345678", hostname: "h", machineId: "\u0000" });
    expect(enroll.error!.issues.map((i) => i.path.join("."))).toEqual(["machineId"]);
  });

  it("makes an agent's own text storable (a NUL in command output, a pair cut in half)", () => {
    expect(toStorableText("a\u0000b")).toBe("a\uFFFDb");
    expect(toStorableText("cut 😀".slice(0, -1))).toBe("cut \uFFFD");
    expect(toStorableText("fine 😀")).toBe("fine 😀");
  });
});
