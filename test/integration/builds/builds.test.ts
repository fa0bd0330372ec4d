// Builds once per kernel release, from a durable queue, with the simulate builder: exactly one
// build per release even when two console processes race, a release joining the fleet gets its
// build, a console killed mid-build finishes it after a restart, artifacts are stored by hash and
// signed with the console's key.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { artifactSignaturePayload } from "@/agent/protocol";
import type { Build, PatchDetail } from "@/lib/api/schemas";
import { eventually, startTestConsole, type TestConsole } from "../../helpers/console";
import { diffFixture } from "../../helpers/fixtures";

const RELEASES = ["6.1.0-50-amd64", "6.1.0-56-amd64", "5.15.0-131-generic", "5.14.0-427.42.1.el9_4.x86_64"];

let a: TestConsole;
let b: TestConsole;

async function addHosts(c: TestConsole, releases: string[], prefix: string) {
  const rows = releases.map((r, i) => `('${prefix}-${i}', '${prefix}-m-${i}', '${crypto.randomBytes(32).toString("hex")}', '${r}', true, now())`);
  await c.db.query(`insert into "Host" (id, hostname, "machineId", "credentialHash", "kernelRelease", online, "lastSeenAt")
    select gen_random_uuid(), v.* from (values ${rows.join(",")}) as v`);
}
const stage = async (c: TestConsole, diff: string, title: string) => {
  const r = await c.api("/api/v1/patches", { method: "POST", json: { title, severity: "high", diff }, headers: { origin: c.url } });
  expect(r.status, await r.clone().text()).toBe(200);
  return (await r.json()) as PatchDetail;
};
const builds = async (c: TestConsole, patchId: string) => ((await (await c.api(`/api/v1/patches/${patchId}/builds`)).json()) as { items: Build[] }).items;

beforeAll(async () => {
  a = await startTestConsole({ env: { SPLICER_BUILD_LEASE_SEC: "3" } });
  b = await startTestConsole({ sharing: a, env: { SPLICER_BUILD_LEASE_SEC: "3" } });
  // Two hosts on each of four releases: builds are per release, not per host.
  await addHosts(a, [...RELEASES, ...RELEASES], "h");
});
afterAll(async () => {
  await b?.stop();
  await a?.stop();
});

describe("builds", () => {
  let patch: PatchDetail;

  it("staging a patch queues exactly one build per kernel release, even when two consoles race to ensure them", async () => {
    patch = await stage(a, diffFixture("function-only-cmdline.diff"), "cmdline fix");
    expect(patch.builds.map((x) => x.kernelRelease).sort()).toEqual([...RELEASES].sort());
    const race = await Promise.all(
      [a, b, a, b].map((c) => c.api(`/api/v1/patches/${patch.id}/builds`, { method: "POST", json: {}, headers: { origin: c.url } })),
    );
    for (const r of race) expect(((await r.json()) as { created: string[] }).created).toEqual([]);
    const done = await eventually(async () => {
      const list = await builds(a, patch.id);
      return list.every((x) => x.status === "succeeded") ? list : null;
    }, { what: "all builds succeeded", timeoutMs: 60_000 });
    expect(done).toHaveLength(4);
    expect(done.every((x) => x.hostCount === 2)).toBe(true);
    // Each built once: one attempt, by whichever process claimed it.
    expect(done.map((x) => x.attempts)).toEqual([1, 1, 1, 1]);
    const rows = await a.db.query<{ n: string }>(`select count(*)::text as n from "Build" where "patchId" = $1`, [patch.id]);
    expect(rows[0].n).toBe("4");
  });

  it("stores each artifact under its sha256 (in the database, every console's source) and signs it with the console's key", async () => {
    const [one] = await a.db.query<{ artifactSha256: string; signature: string; moduleName: string; kernelRelease: string; content: Buffer }>(
      `select b."artifactSha256", b.signature, b."moduleName", b."kernelRelease", a.content
       from "Build" b join "Artifact" a on a.sha256 = b."artifactSha256" where b."patchId" = $1 limit 1`,
      [patch.id],
    );
    const bytes = one.content;
    expect(crypto.createHash("sha256").update(bytes).digest("hex")).toBe(one.artifactSha256);
    const artifact = JSON.parse(bytes.toString("utf8"));
    expect(artifact).toMatchObject({ kernelRelease: one.kernelRelease, moduleName: one.moduleName });
    expect(JSON.stringify(artifact.replaces)).toContain("cmdline_proc_show");
    const publicKey = fs.readFileSync(path.join(a.dataDir, "keys", "artifact-signing.pub"), "utf8");
    const payload = artifactSignaturePayload({ artifactSha256: one.artifactSha256, patchId: patch.id, kernelRelease: one.kernelRelease, moduleName: one.moduleName });
    expect(crypto.verify(null, Buffer.from(payload), publicKey, Buffer.from(one.signature, "base64"))).toBe(true);
    expect(crypto.verify(null, Buffer.from(payload.replace(one.kernelRelease, "6.1.0-1-amd64")), publicKey, Buffer.from(one.signature, "base64"))).toBe(false);
    const log = (await (await a.api(`/api/v1/builds/${(await builds(a, patch.id))[0].id}/log`)).json()) as { log: string };
    expect(log.log).toMatch(/signed/);
  });

  it("a kernel release that joins the fleet gets one more build", async () => {
    await addHosts(a, ["6.1.0-57-cloud-amd64"], "new");
    const list = await eventually(async () => {
      const l = await builds(b, patch.id);
      return l.find((x) => x.kernelRelease === "6.1.0-57-cloud-amd64" && x.status === "succeeded") ? l : null;
    }, { what: "a build for the new release", timeoutMs: 40_000 });
    expect(list).toHaveLength(5);
  });

  it("a patch that requires a reboot fails to build, with the reason, on every release", async () => {
    const p = await stage(a, diffFixture("struct-field-skbuff.diff"), "skb layout");
    const list = await eventually(async () => {
      const l = await builds(a, p.id);
      return l.length === 5 && l.every((x) => x.status === "failed") ? l : null;
    }, { what: "refused builds", timeoutMs: 40_000 });
    expect(list[0].error).toMatch(/sk_buff/);
    // The patch's analysis says so too, per release.
    const detail = (await (await a.api(`/api/v1/patches/${p.id}`)).json()) as PatchDetail;
    const refusals = (detail.analysis as { builderRefusals?: Record<string, { builder: string; message: string }> }).builderRefusals ?? {};
    expect(Object.keys(refusals).sort()).toEqual([...new Set(list.map((x) => x.kernelRelease))].sort());
    expect(Object.values(refusals).every((r) => r.builder === "simulate" && /sk_buff/.test(r.message))).toBe(true);
    const r = await a.api(`/api/v1/builds/${list[0].id}/rebuild`, { method: "POST", headers: { origin: a.url } });
    expect(r.status).toBe(200);
    const again = await a.api(`/api/v1/builds/${list[1].id}/rebuild`, { method: "POST", headers: { origin: a.url } });
    expect(again.status).toBe(200);
    const conflict = await a.api(`/api/v1/builds/${(await builds(a, patch.id))[0].id}/rebuild`, { method: "POST", headers: { origin: a.url } });
    expect(conflict.status).toBe(409);
  });
});

describe("a console killed mid-build", () => {
  it("finishes the build after it restarts, once, with no second build row", async () => {
    const slow = await startTestConsole({ env: { SPLICER_SIMULATE_BUILD_MS: "8000", SPLICER_BUILD_LEASE_SEC: "3" } });
    await addHosts(slow, RELEASES, "s");
    const p = await stage(slow, diffFixture("new-function-added.diff"), "slow build");
    await eventually(async () => (await builds(slow, p.id)).some((x) => x.status === "building"), { what: "a build in progress", timeoutMs: 20_000 });
    await slow.kill();
    await slow.restart();
    const list = await eventually(async () => {
      const l = await builds(slow, p.id);
      return l.every((x) => x.status === "succeeded") ? l : null;
    }, { what: "builds finished after the restart", timeoutMs: 90_000 });
    expect(list).toHaveLength(4);
    expect(Math.max(...list.map((x) => x.attempts))).toBe(2);
    const interrupted = list.find((x) => x.attempts === 2)!;
    expect(((await (await slow.api(`/api/v1/builds/${interrupted.id}/log`)).json()) as { log: string }).log).toMatch(/building again/);
    await slow.stop();
  });
});
