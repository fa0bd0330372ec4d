// Builds off the console: a console told to run none (SPLICER_BUILD_WORKERS=0) leaves builds
// queued; build workers, each its own process (`npm run build-worker`) on the same database, take
// them, and the console checks and signs what they built (a worker holds no key). A worker
// killed mid-build has its build finished by another, still one build row per (patch, release);
// SIGTERM lets a running build finish, or hands it back when there is no grace left.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { artifactSignaturePayload } from "@/agent/protocol";
import type { Build, BuildWorkerInfo, PatchDetail } from "@/lib/api/schemas";
import { startBuildWorkerProcess, type BuildWorkerProcess } from "../../helpers/build-worker";
import { ROOT, eventually, getJson, startTestConsole, type TestConsole } from "../../helpers/console";
import { diffFixture } from "../../helpers/fixtures";

const RELEASES = ["6.1.0-50-amd64", "6.1.0-56-amd64", "5.15.0-131-generic", "5.14.0-427.42.1.el9_4.x86_64"];
const LEASE = { SPLICER_BUILD_LEASE_SEC: "2" };

let c: TestConsole;
const workers: BuildWorkerProcess[] = [];

const startWorker = async (name: string, env: Record<string, string>, viaNpm = false) => {
  const w = await startBuildWorkerProcess({ databaseUrl: c.db.url, name, env: { ...LEASE, ...env }, viaNpm });
  workers.push(w);
  return w;
};
const stage = async (diff: string, title: string) => {
  const r = await c.api("/api/v1/patches", { method: "POST", json: { title, severity: "high", diff }, headers: { origin: c.url } });
  expect(r.status, await r.clone().text()).toBe(200);
  return (await r.json()) as PatchDetail;
};
const builds = async (patchId: string) => (await getJson<{ items: Build[] }>(c, `/api/v1/patches/${patchId}/builds`)).items;
const buildLog = async (id: string) => (await getJson<{ log: string }>(c, `/api/v1/builds/${id}/log`)).log;
const buildWorkers = async () => (await getJson<{ items: BuildWorkerInfo[] }>(c, "/api/v1/build-workers")).items;
const allSucceeded = (patchId: string, what: string, timeoutMs = 60_000) =>
  eventually(async () => {
    const l = await builds(patchId);
    return l.length === RELEASES.length && l.every((b) => b.status === "succeeded") ? l : null;
  }, { what, timeoutMs });

beforeAll(async () => {
  c = await startTestConsole({ env: { SPLICER_BUILD_WORKERS: "0", ...LEASE } });
  const rows = RELEASES.map((r, i) => `('w-${i}', 'w-m-${i}', '${crypto.randomBytes(32).toString("hex")}', '${r}', true, now())`);
  await c.db.query(`insert into "Host" (id, hostname, "machineId", "credentialHash", "kernelRelease", online, "lastSeenAt")
    select gen_random_uuid(), v.* from (values ${rows.join(",")}) as v`);
});
afterAll(async () => {
  for (const w of workers) await w.kill();
  await c?.stop();
});

describe("builds off the console", () => {
  let first: PatchDetail;
  let a: BuildWorkerProcess;
  let b: BuildWorkerProcess;

  it("a console told to run no builds leaves them queued, and says so", async () => {
    expect(c.output()).toMatch(/by build workers only \(SPLICER_BUILD_WORKERS=0\)/);
    first = await stage(diffFixture("function-only-cmdline.diff"), "cmdline fix");
    // A console that builds finishes these in ~300 ms (the test console's simulated build time).
    await new Promise((r) => setTimeout(r, 3_000));
    const list = await builds(first.id);
    expect(list.map((x) => [x.status, x.attempts, x.worker])).toEqual(RELEASES.map(() => ["queued", 0, null]));
    expect(await buildWorkers()).toEqual([]);
  });

  it("two build workers (separate processes, one database) take the builds; the console checks and signs them", async () => {
    // a: as a person starts it, through npm; b: slower, so that it is still building when the next test kills it.
    [a, b] = await Promise.all([
      startWorker("worker-a", { SPLICER_SIMULATE_BUILD_MS: "1200" }, true),
      startWorker("worker-b", { SPLICER_SIMULATE_BUILD_MS: "3000" }),
    ]);
    const done = await allSucceeded(first.id, "the workers to build every release");
    // Both took builds; each build names its worker, in the API and in its log.
    expect(new Set(done.map((x) => x.worker))).toEqual(new Set(["worker-a", "worker-b"]));
    expect(done.map((x) => x.attempts)).toEqual(RELEASES.map(() => 1));
    for (const x of done) {
      const text = await buildLog(x.id);
      expect(text).toContain(`on build worker ${x.worker} (`);
      expect(text).toMatch(/artifact checked and signed by console /);
    }
    // The console's key signed them; the workers never had one (nor the audit key).
    const publicKey = fs.readFileSync(path.join(c.dataDir, "keys", "artifact-signing.pub"), "utf8");
    const rows = await c.db.query<{ artifactSha256: string; signature: string; moduleName: string; kernelRelease: string; content: Buffer }>(
      `select b."artifactSha256", b.signature, b."moduleName", b."kernelRelease", a.content
       from "Build" b join "Artifact" a on a.sha256 = b."artifactSha256" where b."patchId" = $1`,
      [first.id],
    );
    expect(rows).toHaveLength(RELEASES.length);
    for (const r of rows) {
      expect(crypto.createHash("sha256").update(r.content).digest("hex")).toBe(r.artifactSha256);
      const payload = artifactSignaturePayload({ artifactSha256: r.artifactSha256, patchId: first.id, kernelRelease: r.kernelRelease, moduleName: r.moduleName });
      expect(crypto.verify(null, Buffer.from(payload), publicKey, Buffer.from(r.signature, "base64"))).toBe(true);
    }
    for (const w of [a, b]) expect(fs.existsSync(path.join(w.dataDir, "keys"))).toBe(false);
    // The audit log says who built each, written by the console.
    const audit = await c.db.query<{ details: { worker: string } }>(`select details from "AuditEvent" where action = 'build.succeeded' and details->>'patchId' = $1`, [first.id]);
    expect(new Set(audit.map((e) => e.details.worker))).toEqual(new Set(["worker-a", "worker-b"]));
    // The console lists both, online, with the releases each has prepared.
    const listed = await buildWorkers();
    expect(listed.map((w) => [w.name, w.kind, w.online]).sort()).toEqual([["worker-a", "worker", true], ["worker-b", "worker", true]]);
    expect(listed.flatMap((w) => w.releases).sort()).toEqual([...RELEASES].sort());
    for (const w of listed) expect(w.releases.sort()).toEqual(done.filter((x) => x.worker === w.name).map((x) => x.kernelRelease).sort());
  });

  it("a worker killed mid-build: the other finishes its build, once, with no second build row", async () => {
    const p = await stage(diffFixture("new-function-added.diff"), "new function");
    const victim = await eventually(async () => (await builds(p.id)).find((x) => x.status === "building" && x.worker === "worker-b"), {
      what: "worker-b building",
      timeoutMs: 20_000,
    });
    await b.kill();
    const done = await allSucceeded(p.id, "the builds, worker-b's finished by worker-a", 60_000);
    const again = done.find((x) => x.id === victim.id)!;
    expect(again).toMatchObject({ worker: "worker-a", attempts: 2 });
    expect(await buildLog(again.id)).toMatch(/build worker worker-b stopped answering \(its lease lapsed\); building again on worker-a/);
    const pairs = await c.db.query<{ n: number }>(`select count(*)::int as n from "Build" where "patchId" = $1 group by "kernelRelease"`, [p.id]);
    expect(pairs.map((r) => r.n)).toEqual(RELEASES.map(() => 1));
    // worker-b's heartbeat lapsed: offline, not stopped (it never said goodbye).
    const listed = await eventually(async () => {
      const l = await buildWorkers();
      return l.find((w) => w.name === "worker-b" && !w.online) ? l : null;
    }, { what: "worker-b offline" });
    expect(listed.find((w) => w.name === "worker-b")!.stoppedAt).toBeNull();
  });

  it("SIGTERM lets the running build finish; with no grace it hands the build back, which waits for a worker", async () => {
    // worker-a, idle, stops at once and says so.
    a.signal("SIGTERM");
    expect(await a.exited()).toMatchObject({ code: 0 });
    const p = await stage(diffFixture("bounds-check-ipv4.diff"), "ipv4 bounds");
    const quick = await startWorker("worker-quick-stop", { SPLICER_SIMULATE_BUILD_MS: "8000", SPLICER_BUILD_STOP_GRACE_SEC: "0" });
    const handed = await eventually(async () => (await builds(p.id)).find((x) => x.status === "building"), { what: "a build running", timeoutMs: 20_000 });
    const t = Date.now();
    quick.signal("SIGTERM");
    expect(await quick.exited()).toMatchObject({ code: 0 });
    expect(Date.now() - t).toBeLessThan(5_000);
    const back = (await builds(p.id)).find((x) => x.id === handed.id)!;
    expect(back).toMatchObject({ status: "queued", attempts: 1, worker: "worker-quick-stop" });
    expect(await buildLog(back.id)).toMatch(/build worker worker-quick-stop is stopping: build handed back to the queue/);

    // Through npm: the signal arrives twice at once (the group's and npm's copy), which is still one stop, not "hand back now".
    const patient = await startWorker("worker-patient", { SPLICER_SIMULATE_BUILD_MS: "3000" }, true);
    const running = await eventually(async () => (await builds(p.id)).find((x) => x.status === "building" && x.worker === "worker-patient"), { what: "worker-patient building", timeoutMs: 20_000 });
    patient.signal("SIGTERM");
    expect(await patient.exited()).toMatchObject({ code: 0 });
    const finished = (await builds(p.id)).find((x) => x.id === running.id)!;
    // Finished, then recorded by the console (which may take a moment after the worker left).
    await eventually(async () => (await builds(p.id)).find((x) => x.id === running.id && x.status === "succeeded"), { what: "the build worker-patient finished" });
    expect(finished.worker).toBe("worker-patient");
    // Nobody builds now: the rest stay queued. The console marks both stopped workers stopped.
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await builds(p.id)).filter((x) => x.status === "queued")).toHaveLength(RELEASES.length - 1);
    const listed = await buildWorkers();
    for (const n of ["worker-a", "worker-quick-stop", "worker-patient"]) expect(listed.find((w) => w.name === n)).toMatchObject({ online: false, stoppedAt: expect.any(String) });
  });

  it("the console refuses to sign what a worker's result does not match", async () => {
    const p = await stage(diffFixture("cmdline-marker.diff"), "tampered");
    const [victim] = await builds(p.id);
    const bogus = crypto.createHash("sha256").update("never stored").digest("hex");
    await c.db.query(`update "Build" set status = 'building', result = $2::jsonb where id = $1`, [
      victim.id,
      JSON.stringify({ status: "succeeded", artifactSha256: bogus, artifactSize: 12, moduleName: "livepatch_x", worker: "impostor" }),
    ]);
    await c.db.query(`select pg_notify('splicer_events', $1)`, [JSON.stringify({ type: "builds.changed", patchId: p.id, buildId: victim.id })]);
    const failed = await eventually(async () => (await builds(p.id)).find((x) => x.id === victim.id && x.status === "failed"), { what: "the result refused" });
    expect(failed.error).toBe(`not signed: artifact ${bogus} is not in the database`);
    expect(failed.artifactSha256).toBeNull();
  });

  it("a worker refuses to start without DATABASE_URL, or on a database older than its code", async () => {
    const none = await startBuildWorkerProcess({ name: "no-db", expectExit: true });
    expect(await none.exited()).toMatchObject({ code: 2 });
    expect(none.output()).toMatch(/DATABASE_URL is required: the console's PostgreSQL/);

    const admin = new pg.Client({ connectionString: Object.assign(new URL(inject("pgTemplateUrl")), { pathname: "/postgres" }).toString() });
    await admin.connect();
    const name = `empty_${crypto.randomBytes(4).toString("hex")}`;
    await admin.query(`create database "${name}"`);
    try {
      const url = Object.assign(new URL(inject("pgTemplateUrl")), { pathname: `/${name}` }).toString();
      const old = await startBuildWorkerProcess({ name: "old-db", databaseUrl: url, expectExit: true });
      expect(await old.exited()).toMatchObject({ code: 1 });
      // It names every migration the database lacks, the first and the newest included.
      const migrations = fs.readdirSync(path.join(ROOT, "prisma/migrations")).filter((d) => /^\d{14}_/.test(d)).sort();
      expect(old.output()).toContain(`the database lacks migrations ${migrations.join(", ")}: start (or upgrade) the console first`);
    } finally {
      await admin.query(`drop database "${name}"`);
      await admin.end();
    }
  });
});
