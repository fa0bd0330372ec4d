import { randomUUID } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileJobStore, MemoryJobStore, type JobRecord } from "../../../../agent/jobs/store";
import { Logger } from "../../../../agent/log";

let root: string;
let dir: string;
let logLines: string[];
const log = () => new Logger("warn", {}, (l) => logLines.push(l));

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "splicer-jobs-"));
  dir = path.join(root, "jobs");
  logLines = [];
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

function rec(over: Partial<JobRecord> = {}): JobRecord {
  return {
    job: { jobId: randomUUID(), kind: "apply", patchId: randomUUID(), buildId: randomUUID(), moduleName: "lp_x", kernelRelease: "6.1.0-50-amd64", timeoutSec: 120, requires: [], blockedBy: [] },
    phase: "accepted",
    log: ["2026-01-01T00:00:00.000Z received"],
    receivedAt: new Date().toISOString(),
    acked: false,
    seq: 0,
    ...over,
  };
}

describe("FileJobStore", () => {
  it("keeps one 0600 JSON file per job in a 0700 directory, and loads them back", async () => {
    const store = new FileJobStore({ dir, log: log() });
    expect(await store.load()).toEqual([]); // no directory yet
    const a = rec({ seq: 1 });
    const b = rec({ seq: 2, phase: "failed", error: "nope", finishedAt: new Date().toISOString(), blockingTasks: [{ pid: 7, comm: "x" }] });
    await store.save(a);
    await store.save(b);
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(store.fileOf(a.job.jobId))).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await fs.readFile(store.fileOf(b.job.jobId), "utf8"))).toEqual(b);
    const loaded = await new FileJobStore({ dir }).load();
    expect(loaded.sort((x, y) => x.seq - y.seq)).toEqual([a, b]);
    expect((await fs.readdir(dir)).sort()).toEqual([`${a.job.jobId}.json`, `${b.job.jobId}.json`].sort()); // no temp files left
  });

  it("lands saves of one job in call order, even when not awaited", async () => {
    const store = new FileJobStore({ dir });
    const r = rec();
    const phases = ["accepted", "downloading", "applying", "verifying", "succeeded"] as const;
    await Promise.all(phases.map((phase) => store.save({ ...r, phase })));
    expect(JSON.parse(await fs.readFile(store.fileOf(r.job.jobId), "utf8")).phase).toBe("succeeded");
  });

  it("replaces a file atomically: a failed write leaves the previous version and no temp file", async () => {
    const store = new FileJobStore({ dir });
    const r = rec();
    await store.save(r);
    const failing = new FileJobStore({
      dir,
      fs: { ...fs, rename: async () => Promise.reject(Object.assign(new Error("EIO: i/o error"), { code: "EIO" })) },
    });
    await expect(failing.save({ ...r, phase: "succeeded" })).rejects.toThrow(/EIO/);
    expect(JSON.parse(await fs.readFile(store.fileOf(r.job.jobId), "utf8")).phase).toBe("accepted");
    expect(await fs.readdir(dir)).toEqual([`${r.job.jobId}.json`]);
  });

  it("logs and skips unreadable job files, and removes temp files a crash left", async () => {
    const store = new FileJobStore({ dir, log: log() });
    const good = rec();
    await store.save(good);
    const bad = randomUUID();
    await fs.writeFile(path.join(dir, `${bad}.json`), "{ not json");
    await fs.writeFile(path.join(dir, `${randomUUID()}.json`), JSON.stringify({ job: { jobId: "x" }, phase: "flying" }));
    const misnamed = rec();
    await fs.writeFile(path.join(dir, `${randomUUID()}.json`), JSON.stringify(misnamed));
    await fs.writeFile(path.join(dir, `.${good.job.jobId}.json.123.abcd.tmp`), "{");
    await fs.writeFile(path.join(dir, "README"), "not a job");
    expect(await store.load()).toEqual([good]);
    const warnings = logLines.map((l) => JSON.parse(l) as { msg: string; file: string; error: string });
    expect(warnings).toHaveLength(3);
    expect(warnings.every((w) => w.msg === "skipping an unreadable job file")).toBe(true);
    const errors = warnings.map((w) => w.error);
    expect(errors.some((e) => /JSON/.test(e))).toBe(true);
    expect(errors.some((e) => /phase: Invalid option/.test(e))).toBe(true);
    expect(errors.some((e) => e === `holds job ${misnamed.job.jobId}`)).toBe(true);
    expect((await fs.readdir(dir)).some((n) => n.endsWith(".tmp"))).toBe(false);
  });

  it("prunes final, acknowledged jobs that finished before the cutoff", async () => {
    const store = new FileJobStore({ dir });
    const now = Date.now();
    const day = 24 * 3600 * 1000;
    const at = (ms: number) => new Date(ms).toISOString();
    const oldAcked = rec({ phase: "succeeded", finishedAt: at(now - 40 * day), acked: true });
    const oldUnacked = rec({ phase: "failed", finishedAt: at(now - 40 * day), acked: false });
    const recentAcked = rec({ phase: "succeeded", finishedAt: at(now - day), acked: true });
    const oldRunning = rec({ phase: "applying", receivedAt: at(now - 40 * day), acked: true });
    for (const r of [oldAcked, oldUnacked, recentAcked, oldRunning]) await store.save(r);
    const kept = await store.load({ pruneBefore: now - 30 * day });
    expect(kept.map((r) => r.job.jobId).sort()).toEqual([oldUnacked, recentAcked, oldRunning].map((r) => r.job.jobId).sort());
    expect((await fs.readdir(dir)).length).toBe(3);
    await store.remove(recentAcked.job.jobId);
    expect((await fs.readdir(dir)).length).toBe(2);
  });
});

describe("MemoryJobStore", () => {
  it("stores copies and prunes like the file store", async () => {
    const store = new MemoryJobStore();
    const r = rec({ phase: "succeeded", finishedAt: new Date(0).toISOString(), acked: true });
    await store.save(r);
    r.log.push("changed after save");
    expect((await store.load())[0]!.log).toHaveLength(1);
    expect(await store.load({ pruneBefore: Date.now() })).toEqual([]);
    expect(store.records.size).toBe(0);
  });
});
