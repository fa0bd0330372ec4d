// Staging patches over the real API: analysis on the way in, clear refusals, nothing stored on
// refusal, one patch per diff, roles, audit.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PatchDetail, PatchSummary } from "@/lib/api/schemas";
import { startTestConsole, type TestConsole } from "../../helpers/console";
import { diffFixture } from "../../helpers/fixtures";

let c: TestConsole;
const stage = (body: unknown, cookie?: string | null) =>
  c.api("/api/v1/patches", { method: "POST", json: body, headers: { origin: c.url }, ...(cookie !== undefined ? { cookie } : {}) });
const patchCount = async () => Number((await c.db.query<{ n: string }>(`select count(*)::text as n from "Patch"`))[0].n);

beforeAll(async () => {
  c = await startTestConsole();
});
afterAll(async () => c?.stop());

describe("POST /api/v1/patches", () => {
  it("stages a function-only fix as hot-patchable, naming the function, and audits it", async () => {
    const r = await stage({ title: "proc: mark live-patched cmdline", cves: ["cve-2026-12345"], severity: "high", diff: diffFixture("function-only-cmdline.diff") });
    expect(r.status).toBe(200);
    const p = (await r.json()) as PatchDetail;
    expect(p).toMatchObject({ verdict: "hot-patchable", functions: ["cmdline_proc_show"], cves: ["CVE-2026-12345"], severity: "high", targetReleases: [], builds: [] });
    expect((p.analysis as { files: { path: string }[] }).files[0].path).toBe("fs/proc/cmdline.c");
    const again = (await (await c.api(`/api/v1/patches/${p.id}`)).json()) as PatchDetail;
    expect(again.diff).toBe(diffFixture("function-only-cmdline.diff"));
    const list = (await (await c.api("/api/v1/patches")).json()) as { items: PatchSummary[] };
    expect(list.items.map((i) => i.id)).toContain(p.id);
    const audit = (await (await c.api(`/api/v1/audit?action=patch.staged&targetId=${p.id}`)).json()) as { items: { actorName: string; details: { verdict: string } }[] };
    expect(audit.items[0]).toMatchObject({ actorName: "admin", details: { verdict: "hot-patchable" } });
  });

  it("flags a struct layout change as requires-reboot with the reason", async () => {
    const r = await stage({ title: "skb: new field", severity: "medium", diff: diffFixture("struct-field-skbuff.diff") });
    expect(r.status).toBe(200);
    const p = (await r.json()) as PatchDetail;
    expect(p.verdict).toBe("requires-reboot");
    const reasons = (p.analysis as { reasons: { code: string; message: string }[] }).reasons;
    expect(reasons.some((x) => /struct sk_buff/.test(x.message))).toBe(true);
  });

  it("refuses the same diff twice", async () => {
    const r = await stage({ title: "again", severity: "low", diff: diffFixture("function-only-cmdline.diff") });
    expect(r.status).toBe(409);
    expect((await r.json()).error.message).toMatch(/already staged as "proc: mark live-patched cmdline"/);
  });

  it("refuses bad input with a clear error and stores nothing", async () => {
    const before = await patchCount();
    const cases: [unknown, number, RegExp][] = [
      [{ title: "x", severity: "low", diff: "hello, this is not a diff" }, 400, /not_a_diff/],
      [{ title: "x", severity: "low", diff: diffFixture("function-only-cmdline.diff").replaceAll("fs/proc/cmdline.c", "../../etc/passwd") }, 400, /path_escapes_tree/],
      [{ title: "x", severity: "low", diff: "diff --git a/x.bin b/x.bin\nindex 1..2 100644\nBinary files a/x.bin and b/x.bin differ\n" }, 400, /binary/],
      [{ title: "x", severity: "low", diff: "" }, 400, /diff is required/],
      [{ title: "", severity: "low", diff: diffFixture("function-only-cmdline.diff") }, 400, /title is required/],
      [{ title: "x", severity: "urgent", diff: diffFixture("function-only-cmdline.diff") }, 400, /severity/],
      [{ title: "x", severity: "low", cves: ["CVE-24-1"], diff: diffFixture("function-only-cmdline.diff") }, 400, /CVE ids look like/],
      [{ title: "x", severity: "low", kernelReleases: ["6.1.0 50"], diff: diffFixture("function-only-cmdline.diff") }, 400, /kernel releases look like/],
      [{ title: "x", severity: "low", diff: "x".repeat((1 << 20) + 10) }, 400, /too_large|limit/],
    ];
    for (const [body, status, message] of cases) {
      const r = await stage(body);
      const text = await r.text();
      expect(r.status, text).toBe(status);
      expect(text).toMatch(message);
    }
    expect(await patchCount()).toBe(before);
  });

  it("lets viewers read but not stage", async () => {
    await c.api("/api/v1/operators", { method: "POST", json: { username: "vic", password: "vic-password-1", role: "viewer" }, headers: { origin: c.url } });
    const viewer = await c.login("vic", "vic-password-1");
    expect((await c.api("/api/v1/patches", { cookie: viewer })).status).toBe(200);
    const r = await stage({ title: "x", severity: "low", diff: diffFixture("new-function-added.diff") }, viewer);
    expect(r.status).toBe(403);
  });
});
