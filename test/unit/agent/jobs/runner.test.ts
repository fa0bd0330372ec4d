import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { FetchedArtifact } from "../../../../agent/artifact-fetch";
import { SIMULATED_ARTIFACT_FORMAT, SimulatedKernel } from "../../../../agent/backends/simulate";
import { JobRunner, type ArtifactRequest, type JobRunnerOptions } from "../../../../agent/jobs/runner";
import { MemoryJobStore, type JobRecord } from "../../../../agent/jobs/store";
import { Logger } from "../../../../agent/log";
import { JobUpdateSchema, type Job, type JobPhase, type JobUpdate } from "../../../../agent/protocol";
import { waitFor } from "../fake-console";

const RELEASE = "6.1.0-50-amd64";
const PATCH = "2d1f0a6e-7c1b-4a53-9a0e-3f2b6f0c1a11";
const BUILD = "8b0c3d9e-1f2a-4b5c-8d7e-6f5a4b3c2d1e";

const artifactBytes = (moduleName = "lp_sim") =>
  Buffer.from(JSON.stringify({ format: SIMULATED_ARTIFACT_FORMAT, moduleName, kernelRelease: RELEASE, patchId: PATCH }));

function job(over: Partial<Job> = {}): Job {
  return { jobId: randomUUID(), kind: "apply", patchId: PATCH, buildId: BUILD, moduleName: "lp_sim", kernelRelease: RELEASE, timeoutSec: 30, requires: [], blockedBy: [], ...over };
}

interface Harness {
  runner: JobRunner;
  store: MemoryJobStore;
  kernel: SimulatedKernel;
  sent: JobUpdate[];
  fetches: ArtifactRequest[];
  finished: string[];
  phases: Map<string, JobPhase[]>;
  logLines: string[];
  /** What send() answers: true = acknowledged. */
  ack: { value: boolean };
}

let current: Harness | null = null;
afterEach(() => {
  current?.runner.stop();
  current = null;
});

function harness(over: Partial<JobRunnerOptions> & { store?: MemoryJobStore; kernel?: SimulatedKernel; fetchResult?: () => Promise<FetchedArtifact> } = {}): Harness {
  const { store = new MemoryJobStore(), kernel = new SimulatedKernel({ kernelRelease: RELEASE }), fetchResult, ...rest } = over;
  const h = { store, kernel, sent: [] as JobUpdate[], fetches: [] as ArtifactRequest[], finished: [] as string[], phases: new Map<string, JobPhase[]>(), logLines: [] as string[], ack: { value: true } };
  const runner = new JobRunner({
    store,
    backend: kernel,
    kernelRelease: async () => RELEASE,
    fetchArtifact: async (req) => {
      h.fetches.push(req);
      if (fetchResult) return fetchResult();
      return { ok: true, bytes: artifactBytes(req.moduleName), fields: { artifactSha256: "ab".repeat(32), patchId: req.patchId, kernelRelease: req.kernelRelease, moduleName: req.moduleName }, signature: "c2ln" };
    },
    send: async (u) => {
      h.sent.push(structuredClone(u));
      return h.ack.value;
    },
    onChange: (rec) => {
      const list = h.phases.get(rec.job.jobId) ?? [];
      if (list.at(-1) !== rec.phase) list.push(rec.phase);
      h.phases.set(rec.job.jobId, list);
    },
    onFinished: (rec) => h.finished.push(rec.job.jobId),
    log: new Logger("debug", {}, (l) => h.logLines.push(l)),
    resendMs: 40,
    ...rest,
  });
  current = { ...h, runner };
  return current;
}

const finalOf = (h: Harness, id: string) => h.sent.filter((u) => u.jobId === id && (u.phase === "succeeded" || u.phase === "failed"));
const settle = async (h: Harness, id: string) => {
  await waitFor(() => ["succeeded", "failed"].includes(h.runner.get(id)?.phase ?? ""), 5000, `job ${id} final`);
  await h.runner.idle();
};
/** Starts a harness's runner (`connected`: and tells it the console is there), hands it one job and waits until the job is over. */
const runOne = async (h: Harness, j: Job = job(), o: { connected?: boolean } = {}): Promise<Job> => {
  await h.runner.start();
  if (o.connected) h.runner.connected();
  await h.runner.handle(j);
  await settle(h, j.jobId);
  return j;
};

describe("JobRunner", () => {
  it("applies: downloads, verifies the signed module, applies, reports every phase and the final update, then asks for an inventory", async () => {
    const h = harness();
    await h.runner.start();
    h.runner.connected();
    const j = job();
    expect(await h.runner.handle(j)).toEqual({ ok: true, phase: "accepted" });
    expect(h.store.records.get(j.jobId)?.phase).toBe("accepted"); // persisted before it runs
    await settle(h, j.jobId);
    expect(h.phases.get(j.jobId)).toEqual(["accepted", "downloading", "applying", "verifying", "succeeded"]);
    expect(h.fetches).toEqual([expect.objectContaining({ buildId: BUILD, patchId: PATCH, moduleName: "lp_sim", kernelRelease: RELEASE })]);
    expect(await h.kernel.listLivepatches()).toEqual([{ name: "lp_sim", enabled: true, transition: false }]);
    await waitFor(() => h.runner.get(j.jobId)!.acked, 2000, "acked");
    const final = finalOf(h, j.jobId);
    expect(final).toHaveLength(1);
    expect(final[0]).toMatchObject({ phase: "succeeded", finishedAt: expect.stringMatching(/Z$/) });
    expect(final[0]!.log!.join("\n")).toMatch(/received apply of lp_sim[\s\S]*downloading build[\s\S]*signature verified[\s\S]*applied lp_sim/);
    expect(h.store.records.get(j.jobId)).toMatchObject({ phase: "succeeded", acked: true });
    expect(h.finished).toEqual([j.jobId]);
  });

  it("keeps an applied patch with its signed fields (to load again after a reboot) and forgets it when reverted; a failure to keep is logged, not fatal", async () => {
    const kept: string[] = [];
    const h = harness({
      onApplied: async (a) => void kept.push(`keep ${a.fields.moduleName} ${a.signature} ${Buffer.from(a.bytes).length}`),
      onReverted: async (name) => void kept.push(`forget ${name}`),
    });
    await h.runner.start();
    h.runner.connected();
    const apply = job();
    await h.runner.handle(apply);
    await settle(h, apply.jobId);
    const revert = job({ kind: "revert", buildId: undefined });
    await h.runner.handle(revert);
    await settle(h, revert.jobId);
    expect(kept).toEqual([`keep lp_sim c2ln ${artifactBytes().length}`, "forget lp_sim"]);
    h.runner.stop();

    const failing = harness({ onApplied: async () => Promise.reject(new Error("disk full")) });
    await failing.runner.start();
    failing.runner.connected();
    const j = job();
    await failing.runner.handle(j);
    await settle(failing, j.jobId);
    expect(failing.runner.get(j.jobId)?.phase).toBe("succeeded");
    expect(failing.runner.get(j.jobId)?.log.join("\n")).toContain("could not keep the module to load it again after a reboot: disk full");
  });

  it("never runs a job id twice: a repeat while running answers its phase, a repeat after the end re-sends the final update", async () => {
    const kernel = new SimulatedKernel({ kernelRelease: RELEASE, behavior: { applyMs: 150 } });
    const h = harness({ kernel });
    await h.runner.start();
    h.runner.connected();
    const j = job();
    await h.runner.handle(j);
    await waitFor(() => h.runner.get(j.jobId)?.phase === "applying", 2000, "applying");
    expect(await h.runner.handle({ ...j })).toEqual({ ok: true, phase: "applying" });
    await settle(h, j.jobId);
    await waitFor(() => h.runner.get(j.jobId)!.acked, 2000, "acked");
    expect(finalOf(h, j.jobId)).toHaveLength(1);

    expect(await h.runner.handle({ ...j })).toEqual({ ok: true, phase: "succeeded" });
    await waitFor(() => finalOf(h, j.jobId).length === 2, 2000, "final re-sent");
    expect(finalOf(h, j.jobId)[1]).toEqual(finalOf(h, j.jobId)[0]);
    expect(kernel.operations.filter((o) => o.kind === "apply")).toHaveLength(1);
    expect(h.fetches).toHaveLength(1);
  });

  it("refuses a job for another kernel release without running it", async () => {
    const h = harness();
    await h.runner.start();
    h.runner.connected();
    const j = job({ kernelRelease: "5.15.0-91-generic" });
    expect(await h.runner.handle(j)).toEqual({ ok: true, phase: "failed" });
    await waitFor(() => finalOf(h, j.jobId).length === 1, 2000, "failed update");
    expect(finalOf(h, j.jobId)[0]).toMatchObject({
      phase: "failed",
      error: "this host runs kernel 6.1.0-50-amd64, not 5.15.0-91-generic (rebooted into another kernel?); the job was not run",
    });
    expect(h.fetches).toHaveLength(0);
    expect(h.kernel.operations).toHaveLength(0);
    expect(h.store.records.get(j.jobId)?.phase).toBe("failed");
    // A repeat is answered from the record, not re-evaluated.
    expect(await h.runner.handle(j)).toEqual({ ok: true, phase: "failed" });
  });

  it("keeps what happened while disconnected and sends the latest update of each unacknowledged job after reconnecting", async () => {
    const h = harness();
    await h.runner.start();
    const a = job();
    const b = job({ kind: "revert", buildId: undefined, moduleName: "lp_other" });
    await h.runner.handle(a);
    await h.runner.handle(b);
    await settle(h, a.jobId);
    await settle(h, b.jobId);
    expect(h.sent).toEqual([]);
    expect(h.store.records.get(a.jobId)?.acked).toBe(false);

    h.runner.connected();
    await waitFor(() => h.sent.length === 2, 2000, "two updates");
    expect(h.sent.map((u) => [u.jobId, u.phase])).toEqual([
      [a.jobId, "succeeded"],
      [b.jobId, "succeeded"],
    ]);
    await waitFor(() => h.store.records.get(a.jobId)?.acked === true && h.store.records.get(b.jobId)?.acked === true, 2000, "acked persisted");
    // Nothing more to say on the next reconnect.
    h.runner.disconnected();
    h.runner.connected();
    await new Promise((r) => setTimeout(r, 100));
    expect(h.sent).toHaveLength(2);
  });

  it("retries an update the console did not acknowledge, while connected", async () => {
    const h = harness();
    await h.runner.start();
    h.runner.connected();
    h.ack.value = false;
    const j = job();
    await h.runner.handle(j);
    await settle(h, j.jobId);
    const before = h.sent.length;
    await waitFor(() => h.sent.length >= before + 2, 2000, "resends");
    expect(h.sent.at(-1)?.phase).toBe("succeeded");
    expect(h.runner.get(j.jobId)?.acked).toBe(false);
    h.ack.value = true;
    await waitFor(() => h.runner.get(j.jobId)?.acked === true, 2000, "acked");
    const settled = h.sent.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(h.sent.length).toBe(settled);
  });

  it("resumes jobs a crash interrupted, without applying twice", async () => {
    const store = new MemoryJobStore();
    const kernel = new SimulatedKernel({ kernelRelease: RELEASE, livepatches: [{ name: "lp_sim", enabled: true, transition: false }] });
    const interrupted: JobRecord = { job: job(), phase: "applying", log: ["earlier line"], receivedAt: new Date().toISOString(), acked: true, seq: 4 };
    const revert: JobRecord = { job: job({ kind: "revert", moduleName: "lp_gone", buildId: undefined }), phase: "accepted", log: [], receivedAt: new Date().toISOString(), acked: false, seq: 5 };
    const done: JobRecord = { job: job(), phase: "succeeded", log: [], receivedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), acked: true, seq: 3 };
    for (const r of [revert, interrupted, done]) await store.save(r);
    const h = harness({ store, kernel });
    await h.runner.start();
    await h.runner.idle();
    expect(h.runner.get(interrupted.job.jobId)?.phase).toBe("succeeded");
    expect(h.runner.get(revert.job.jobId)?.phase).toBe("succeeded");
    expect(kernel.operations.map((o) => `${o.kind}:${o.moduleName}:${o.outcome}`)).toEqual(["apply:lp_sim:unchanged", "revert:lp_gone:unchanged"]);
    expect(h.runner.get(interrupted.job.jobId)!.log.join("\n")).toMatch(/earlier line[\s\S]*restarted while this job was applying; resuming it[\s\S]*was already applied; nothing changed/);
    // A job finished before the crash is not run again, and a new job with its id is answered from the store.
    expect(await h.runner.handle(done.job)).toEqual({ ok: true, phase: "succeeded" });
    h.runner.connected();
    await waitFor(() => h.sent.filter((u) => u.phase === "succeeded").length === 3, 2000, "reports");
    expect(new Set(h.sent.map((u) => u.jobId))).toEqual(new Set([interrupted.job.jobId, revert.job.jobId, done.job.jobId]));
  });

  it("fails a job that runs past its timeout, naming the phase, and the kernel is left as it was", async () => {
    const kernel = new SimulatedKernel({ kernelRelease: RELEASE, behavior: { applyMs: 10_000 } });
    const h = harness({ kernel });
    await h.runner.start();
    const j = job({ timeoutSec: 1 });
    const t0 = Date.now();
    await h.runner.handle(j);
    await settle(h, j.jobId);
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(h.runner.get(j.jobId)?.error).toBe(
      "timed out after 1 s while applying: the livepatch lp_sim transition did not finish in time; the kernel was left as it was",
    );
    expect(await kernel.listLivepatches()).toEqual([]);

    const stuck = harness({ fetchResult: () => new Promise<FetchedArtifact>(() => undefined) });
    const k = await runOne(stuck, job({ timeoutSec: 1 }));
    expect(stuck.runner.get(k.jobId)?.error).toBe("timed out after 1 s while downloading");
    expect(stuck.fetches[0]!.signal.aborted).toBe(true);
  });

  it("runs one job at a time, in arrival order", async () => {
    const kernel = new SimulatedKernel({ kernelRelease: RELEASE, behavior: { applyMs: 80 } });
    let active = 0;
    let maxActive = 0;
    const track = <T>(p: () => Promise<T>) => async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        return await p();
      } finally {
        active--;
      }
    };
    const backend = Object.assign(Object.create(kernel) as SimulatedKernel, {
      apply: (o: Parameters<SimulatedKernel["apply"]>[0]) => track(() => kernel.apply(o))(),
      revert: (o: Parameters<SimulatedKernel["revert"]>[0]) => track(() => kernel.revert(o))(),
    });
    const h = harness({ kernel, backend });
    await h.runner.start();
    const apply = job();
    const revert = job({ kind: "revert", buildId: undefined });
    const other = job({ moduleName: "lp_two" });
    await h.runner.handle(apply);
    await h.runner.handle(revert);
    await h.runner.handle(other);
    await waitFor(() => h.runner.get(apply.jobId)?.phase === "applying", 2000, "first running");
    expect(h.runner.get(revert.jobId)?.phase).toBe("accepted");
    expect(h.runner.get(other.jobId)?.phase).toBe("accepted");
    await h.runner.idle();
    expect(maxActive).toBe(1);
    expect(kernel.operations.map((o) => `${o.kind}:${o.moduleName}:${o.outcome}`)).toEqual(["apply:lp_sim:changed", "revert:lp_sim:changed", "apply:lp_two:changed"]);
  });

  it("fails with the fetcher's reason, and refuses an artifact signed for another module or patch", async () => {
    const refused = harness({ fetchResult: async () => ({ ok: false, reason: "signature does not verify with the console's pinned key" }) });
    const a = await runOne(refused);
    expect(refused.runner.get(a.jobId)).toMatchObject({ phase: "failed", error: "signature does not verify with the console's pinned key" });

    const wrong = harness({
      fetchResult: async () => ({ ok: true, bytes: artifactBytes("lp_evil"), fields: { artifactSha256: "00", patchId: PATCH, kernelRelease: RELEASE, moduleName: "lp_evil" }, signature: "c2ln" }),
    });
    const b = await runOne(wrong);
    expect(wrong.runner.get(b.jobId)?.error).toBe("the signed artifact is module lp_evil, but the job is for lp_sim; not loading it");
    expect(wrong.kernel.operations).toHaveLength(0);
  });

  it("keeps downloading while the console cannot be reached (it may be restarting) until the job's deadline; a final refusal fails at once", async () => {
    // What stalled the console-killed-mid-rollout test: a download cut off by the console's death
    // failed the host ("download failed: fetch failed"), which paused the rollout for good.
    let unreachable = 3;
    const h = harness({
      downloadRetry: { baseMs: 10, capMs: 20 },
      fetchResult: async () =>
        unreachable-- > 0
          ? { ok: false, reason: "download failed: fetch failed", retryable: true }
          : { ok: true, bytes: artifactBytes("lp_sim"), fields: { artifactSha256: "ab".repeat(32), patchId: PATCH, kernelRelease: RELEASE, moduleName: "lp_sim" }, signature: "c2ln" },
    });
    const a = await runOne(h);
    expect(h.runner.get(a.jobId)?.phase).toBe("succeeded");
    expect(h.fetches).toHaveLength(4);
    expect(h.kernel.operations.filter((o) => o.kind === "apply")).toHaveLength(1);
    expect(h.runner.get(a.jobId)?.log.filter((l) => l.includes("download failed: fetch failed; trying again in"))).toHaveLength(3);

    // Never reachable: the job's own timeout ends it, naming what it was doing.
    const down = harness({ downloadRetry: { baseMs: 10, capMs: 20 }, fetchResult: async () => ({ ok: false, reason: "download failed: connect ECONNREFUSED", retryable: true }) });
    const b = await runOne(down, job({ timeoutSec: 1 }));
    expect(down.runner.get(b.jobId)?.error).toMatch(/^timed out after 1 s while downloading/);
    expect(down.fetches.length).toBeGreaterThan(3);
    expect(down.kernel.operations).toHaveLength(0);

    // A final answer (the console refused it) is not retried.
    const refused = harness({ downloadRetry: { baseMs: 10, capMs: 20 }, fetchResult: async () => ({ ok: false, status: 404, reason: "the console refused the download (404): no such build", retryable: false }) });
    const c = await runOne(refused);
    expect(refused.runner.get(c.jobId)?.error).toBe("the console refused the download (404): no such build");
    expect(refused.fetches).toHaveLength(1);
  });

  it("stacks: an apply built on another waits for it, never loads over a live fix it lacks; a revert under a patch built on it is refused; checked when the job runs", async () => {
    const kept: string[] = [];
    const h = harness({ onApplied: async (a) => void kept.push(a.requires.join(",")) });
    await h.runner.start();
    // Queued behind its base: checked when it runs, so it sees the base loaded.
    const base = job({ moduleName: "lp_base" });
    const top = job({ moduleName: "lp_top", requires: ["lp_base"] });
    await h.runner.handle(base);
    await h.runner.handle(top);
    await settle(h, base.jobId);
    await settle(h, top.jobId);
    expect(h.runner.get(top.jobId)).toMatchObject({ phase: "succeeded" });
    expect(kept).toEqual(["", "lp_base"]);
    // Reverting the base under the top: refused, the kernel unchanged.
    const revertBase = await runOne(h, job({ kind: "revert", moduleName: "lp_base", blockedBy: ["lp_top"] }));
    expect(h.runner.get(revertBase.jobId)).toMatchObject({ phase: "failed", error: expect.stringMatching(/lp_top .*built on top of lp_base.*reverted first/) });
    // A build of the same function without the top's fix: refused while the top is live.
    const stale = await runOne(h, job({ moduleName: "lp_stale", blockedBy: ["lp_top"] }));
    expect(h.runner.get(stale.jobId)).toMatchObject({ phase: "failed", error: expect.stringMatching(/lp_top is live .*would undo that fix/) });
    // A top whose base is not live: refused before any download.
    const fetches = h.fetches.length;
    const orphan = await runOne(h, job({ moduleName: "lp_orphan", requires: ["lp_missing"] }));
    expect(h.runner.get(orphan.jobId)).toMatchObject({ phase: "failed", error: expect.stringMatching(/built on top of lp_missing, which is not live here/) });
    expect(h.fetches.length).toBe(fetches);
    expect((await h.kernel.listLivepatches()).map((l) => l.name)).toEqual(["lp_base", "lp_top"]);
    // Once the top is out, the base may go.
    await runOne(h, job({ kind: "revert", moduleName: "lp_top" }));
    const again = await runOne(h, job({ kind: "revert", moduleName: "lp_base", blockedBy: ["lp_top"] }));
    expect(h.runner.get(again.jobId)).toMatchObject({ phase: "succeeded" });
    expect(await h.kernel.listLivepatches()).toEqual([]);
  });

  it("reports a backend failure with its blocking tasks", async () => {
    const kernel = new SimulatedKernel({ kernelRelease: RELEASE, behavior: { forceFailure: "stall" }, random: () => 0 });
    const h = harness({ kernel });
    const j = await runOne(h, job(), { connected: true });
    await waitFor(() => finalOf(h, j.jobId).length === 1, 2000, "final");
    expect(finalOf(h, j.jobId)[0]).toMatchObject({
      phase: "failed",
      error: "the livepatch lp_sim transition was blocked by task 1000 (postgres); the patch was reversed and unloaded",
      blockingTasks: [{ pid: 1000, comm: "postgres" }],
    });
  });

  it("does not run a job it could not record, keeps the log to the newest 200 lines, and keeps updates within the wire's limits", async () => {
    const store = new MemoryJobStore();
    store.save = async () => {
      throw new Error("EROFS: read-only file system");
    };
    const h = harness({ store });
    await h.runner.start();
    const j = job();
    expect(await h.runner.handle(j)).toEqual({ ok: true, phase: "failed" });
    expect(h.runner.get(j.jobId)?.error).toBe("could not record the job on disk (EROFS: read-only file system); it was not run");
    await new Promise((r) => setImmediate(r));
    await h.runner.idle();
    expect(h.fetches).toHaveLength(0);

    const chatty = harness();
    const orig = chatty.kernel.apply.bind(chatty.kernel);
    chatty.kernel.apply = async (o) => {
      for (let i = 0; i < 300; i++) o.onLog?.(`line ${i}`);
      return orig(o);
    };
    const k = await runOne(chatty);
    const log = chatty.runner.get(k.jobId)!.log;
    expect(log).toHaveLength(200);
    expect(log.at(-1)).toMatch(/applied lp_sim$/);

    // Whatever the backend says, the update stays within the wire's limits.
    const loud = harness();
    loud.kernel.apply = async (o) => {
      o.onLog?.("x".repeat(5000));
      throw new Error("insmod: " + "y".repeat(5000));
    };
    const m = await runOne(loud, job(), { connected: true });
    await waitFor(() => finalOf(loud, m.jobId).length === 1, 2000, "final");
    const update = JobUpdateSchema.parse(finalOf(loud, m.jobId)[0]);
    expect(update.error).toHaveLength(2000);
    expect(Math.max(...update.log.map((l) => l.length))).toBe(1000);
  });

  it("forgets final, acknowledged jobs older than the retention at start", async () => {
    const store = new MemoryJobStore();
    const old = new Date(Date.now() - 31 * 24 * 3600 * 1000).toISOString();
    const recs: JobRecord[] = [
      { job: job(), phase: "succeeded", log: [], receivedAt: old, finishedAt: old, acked: true, seq: 0 },
      { job: job(), phase: "failed", log: [], receivedAt: old, finishedAt: old, acked: false, seq: 1 },
      { job: job(), phase: "succeeded", log: [], receivedAt: old, finishedAt: new Date().toISOString(), acked: true, seq: 2 },
    ];
    for (const r of recs) await store.save(r);
    const h = harness({ store });
    await h.runner.start();
    expect([...store.records.keys()].sort()).toEqual([recs[1]!.job.jobId, recs[2]!.job.jobId].sort());
    expect(h.runner.get(recs[0]!.job.jobId)).toBeUndefined();
  });
});
