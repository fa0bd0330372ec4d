// Runs the console's jobs (apply or revert a livepatch) on this host: once per job id, one at a
// time, within the job's timeout, reporting every phase until the console acknowledges it.
import type { FetchedArtifact } from "../artifact-fetch";
import { Backoff } from "../backoff";
import { KernelError, type KernelBackend, type KernelChange } from "../backends/types";
import { errorMessage, silentLogger, type Logger } from "../log";
import { JOB_PHASE, MAX_JOB_LOG_LINES, stackingRefusal, toStorableText, type ArtifactSignedFields, type Job, type JobAck, type JobPhase, type JobUpdate } from "../protocol";
import { realTimers, type TimerHandle, type Timers } from "../timers";
import { isFinal, isPrunable, jobUpdateOf, type JobRecord, type JobStore } from "./store";

export interface ArtifactRequest {
  buildId: string;
  patchId: string;
  moduleName: string;
  kernelRelease: string;
  signal: AbortSignal;
}

/** Downloads and verifies a build's artifact (see artifact-fetch.ts); never throws for a refusal. */
export type ArtifactFetcher = (req: ArtifactRequest) => Promise<FetchedArtifact>;

export interface JobRunnerOptions {
  store: JobStore;
  backend: KernelBackend;
  fetchArtifact: ArtifactFetcher;
  /** The release this host runs; a job for another is refused without running. */
  kernelRelease: () => Promise<string>;
  /** Sends one update; resolves true once the console acknowledged it, false to send it again later. */
  send: (update: JobUpdate) => Promise<boolean>;
  /** After every change of a job (for events and tests). */
  onChange?: (rec: Readonly<JobRecord>) => void;
  /** After a job reached a final phase (the agent re-sends its inventory). */
  onFinished?: (rec: Readonly<JobRecord>) => void;
  /** After an apply succeeded, with the verified artifact: the agent keeps it to load again after a reboot. */
  onApplied?: (a: { fields: ArtifactSignedFields; signature: string; bytes: Uint8Array; requires: string[] }) => Promise<void>;
  /** After a revert succeeded: the patch is not to be loaded again. */
  onReverted?: (moduleName: string) => Promise<void>;
  timers?: Timers;
  log?: Logger;
  /** While connected, an unacknowledged update is sent again after this long. Default 10 s. */
  resendMs?: number;
  /** Final, acknowledged jobs are forgotten after this long. Default 30 days. */
  retentionMs?: number;
  /** Waits between download attempts that failed for a passing reason (console restarting). */
  downloadRetry?: { baseMs: number; capMs: number };
}

interface Entry {
  rec: JobRecord;
  /** Bumped on every change; an ack counts only for the version that was sent. */
  version: number;
  sending: boolean;
  /** Send even though acknowledged: the console asked about a finished job again. */
  resendFinal: boolean;
  resendTimer: TimerHandle | null;
}

export const DEFAULT_JOB_RETENTION_MS = 30 * 24 * 3600 * 1000;
const PRUNE_EVERY_MS = 24 * 3600 * 1000;
const MAX_LOG_LINE_CHARS = 1000;
const MAX_ERROR_CHARS = 2000;

class JobTimeout extends Error {}

const DOWNLOAD_RETRY = { baseMs: 500, capMs: 5_000 };

export class JobRunner {
  private readonly opts: JobRunnerOptions;
  private readonly timers: Timers;
  private readonly log: Logger;
  private readonly jobs = new Map<string, Entry>();
  private readonly queue: Entry[] = [];
  private running: Entry | null = null;
  private idleWaiters: Array<() => void> = [];
  private nextSeq = 0;
  private online = false;
  /** Bumped on every connect: a send that failed across a reconnect is retried at once. */
  private epoch = 0;
  private started = false;
  private stopped = false;
  private lastPrune = 0;

  constructor(opts: JobRunnerOptions) {
    this.opts = opts;
    this.timers = opts.timers ?? realTimers;
    this.log = opts.log ?? silentLogger;
  }

  /** Loads the jobs seen before (pruning old ones) and resumes any a crash interrupted. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const now = this.timers.now();
    this.lastPrune = now;
    const records = await this.opts.store.load({ pruneBefore: now - this.retentionMs });
    records.sort((a, b) => a.seq - b.seq);
    for (const rec of records) {
      const entry = this.add(rec);
      this.nextSeq = Math.max(this.nextSeq, rec.seq + 1);
      if (isFinal(rec)) continue;
      // Safe to run again: the backends check the kernel first and do not load a patch twice.
      this.addLog(entry, `the agent restarted while this job was ${rec.phase}; resuming it`);
      this.log.info("resuming a job interrupted by a restart", { jobId: rec.job.jobId, phase: rec.phase });
      this.queue.push(entry);
    }
    this.pump();
  }

  /** The console sent a job: record it durably, then run it (once), and answer where it stands. */
  async handle(job: Job): Promise<JobAck> {
    if (this.stopped) return { ok: false, error: "the agent is stopping" };
    const known = this.jobs.get(job.jobId);
    if (known) {
      // The console may have lost the final update: send it again. A running job reports on its own.
      if (isFinal(known.rec)) {
        known.resendFinal = true;
        this.deliver(known);
      }
      return { ok: true, phase: known.rec.phase };
    }
    const entry = this.add({
      job,
      phase: "accepted",
      log: [],
      receivedAt: this.isoNow(),
      acked: false,
      seq: this.nextSeq++,
    });
    const build = job.buildId ? `, build ${job.buildId}` : "";
    this.addLog(entry, `received ${job.kind} of ${job.moduleName} (patch ${job.patchId}${build}) for ${job.kernelRelease}, timeout ${job.timeoutSec} s`);
    const refusal = await this.refusalOf(job);
    if (refusal) this.finish(entry, { phase: JOB_PHASE.failed, error: refusal });
    try {
      await this.opts.store.save(entry.rec);
    } catch (err) {
      // Without a record a repeat of this job could run it twice; never run it unrecorded.
      const error = `could not record the job on disk (${errorMessage(err)}); it was not run`;
      this.log.error("could not persist a job; refusing to run it", { jobId: job.jobId, error: errorMessage(err) });
      if (!isFinal(entry.rec)) this.finish(entry, { phase: JOB_PHASE.failed, error });
    }
    if (refusal) this.log.warn("job refused", { jobId: job.jobId, error: refusal });
    // After the ack has gone out (the caller acks when this resolves), so the console hears
    // "accepted" before any job_update of it.
    setImmediate(() => {
      this.changed(entry);
      if (!isFinal(entry.rec)) {
        this.queue.push(entry);
        this.pump();
      } else {
        this.opts.onFinished?.(entry.rec);
      }
    });
    return { ok: true, phase: entry.rec.phase };
  }

  /** Connected (again): send every update the console has not acknowledged. */
  connected(): void {
    this.online = true;
    this.epoch++;
    for (const entry of this.jobs.values()) if (!entry.rec.acked || entry.resendFinal) this.deliver(entry);
  }

  disconnected(): void {
    this.online = false;
    for (const entry of this.jobs.values()) this.clearResend(entry);
  }

  /** Stops sending and starting jobs. A job already running finishes (and is recorded) on its own. */
  stop(): void {
    this.stopped = true;
    this.disconnected();
    this.queue.length = 0;
    this.settleIdle();
  }

  get(jobId: string): Readonly<JobRecord> | undefined {
    return this.jobs.get(jobId)?.rec;
  }

  list(): Readonly<JobRecord>[] {
    return [...this.jobs.values()].map((e) => e.rec);
  }

  /** Resolves when no job is running or queued. */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private get retentionMs(): number {
    return this.opts.retentionMs ?? DEFAULT_JOB_RETENTION_MS;
  }

  private add(rec: JobRecord): Entry {
    const entry: Entry = { rec, version: 0, sending: false, resendFinal: false, resendTimer: null };
    this.jobs.set(rec.job.jobId, entry);
    return entry;
  }

  private async refusalOf(job: Job): Promise<string | null> {
    if (job.kind === "apply" && !job.buildId) return "an apply job needs a buildId; the job was not run";
    let running: string;
    try {
      running = await this.opts.kernelRelease();
    } catch (err) {
      return `could not read the running kernel release (${errorMessage(err)}); the job was not run`;
    }
    if (running !== job.kernelRelease) {
      return `this host runs kernel ${running}, not ${job.kernelRelease} (rebooted into another kernel?); the job was not run`;
    }
    return null;
  }

  private pump(): void {
    if (this.running || this.stopped) return;
    const next = this.queue.shift();
    if (!next) return this.settleIdle();
    this.running = next;
    void this.execute(next)
      .catch((err: unknown) => this.log.error("job runner failed", { jobId: next.rec.job.jobId, error: errorMessage(err) }))
      .finally(() => {
        this.running = null;
        this.pump();
      });
  }

  private settleIdle(): void {
    if (this.running || this.queue.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async execute(entry: Entry): Promise<void> {
    const { job } = entry.rec;
    const timeoutMs = job.timeoutSec * 1000;
    const startedAt = this.timers.now();
    const abort = new AbortController();
    const timer = this.timers.setTimeout(() => abort.abort(new JobTimeout()), timeoutMs);
    const remaining = () => Math.max(1, startedAt + timeoutMs - this.timers.now());
    const backendOpts = {
      moduleName: job.moduleName,
      signal: abort.signal,
      onPhase: (phase: JobPhase) => this.setPhase(entry, phase),
      onLog: (line: string) => this.addLog(entry, line),
    };
    let change: KernelChange;
    let applied: { fields: ArtifactSignedFields; signature: string; bytes: Uint8Array } | null = null;
    try {
      await this.checkStacking(job);
      if (job.kind === "apply") {
        await this.setPhase(entry, JOB_PHASE.downloading, `downloading build ${job.buildId}`);
        applied = await this.download(job, abort.signal);
        await this.setPhase(entry, JOB_PHASE.applying);
        change = await this.opts.backend.apply({ ...backendOpts, artifact: applied.bytes, timeoutMs: remaining() });
      } else {
        await this.setPhase(entry, JOB_PHASE.applying, `reverting ${job.moduleName}`);
        change = await this.opts.backend.revert({ ...backendOpts, timeoutMs: remaining() });
      }
    } catch (err) {
      const timedOut = abort.signal.aborted || (err instanceof KernelError && err.timedOut);
      const detail = err instanceof JobTimeout ? "" : errorMessage(err);
      const error = timedOut ? `timed out after ${job.timeoutSec} s while ${this.activity(entry)}${detail ? `: ${detail}` : ""}` : detail;
      const blockingTasks = err instanceof KernelError ? err.blockingTasks : undefined;
      await this.finishAndReport(entry, { phase: JOB_PHASE.failed, error, ...(blockingTasks && { blockingTasks }) });
      return;
    } finally {
      this.timers.clearTimeout(timer);
    }
    await this.remember(entry, applied);
    const done = job.kind === "apply" ? "applied" : "reverted"; // text, not a state
    await this.finishAndReport(entry, { phase: JOB_PHASE.succeeded }, change.changed ? `${done} ${job.moduleName}` : `${job.moduleName} was already ${done}; nothing changed`);
  }

  /** Checked when the job runs, not when it arrives: a job queued behind another sees the kernel that one left. */
  private async checkStacking(job: Job): Promise<void> {
    if (!job.requires?.length && !job.blockedBy?.length) return;
    const live = new Set((await this.opts.backend.listLivepatches()).filter((l) => l.enabled).map((l) => l.name));
    const refusal = stackingRefusal(job, live);
    if (refusal) throw new Error(refusal);
  }

  /** Keeps an applied patch (or forgets a reverted one) for the reload at boot; the job stands either way. */
  private async remember(entry: Entry, applied: { fields: ArtifactSignedFields; signature: string; bytes: Uint8Array } | null): Promise<void> {
    const { job } = entry.rec;
    try {
      if (applied) await this.opts.onApplied?.({ ...applied, requires: [...(job.requires ?? [])] });
      else await this.opts.onReverted?.(job.moduleName);
    } catch (err) {
      this.addLog(entry, `could not ${applied ? "keep the module to load it again after a reboot" : "forget the kept module"}: ${errorMessage(err)}`);
      this.log.warn("kept patches not updated", { jobId: job.jobId, moduleName: job.moduleName, error: errorMessage(err) });
    }
  }

  private async download(job: Job, signal: AbortSignal): Promise<{ fields: ArtifactSignedFields; signature: string; bytes: Uint8Array }> {
    // A console that dies (or restarts) mid-download is not the patch's fault: try again, with
    // backoff, until the job's own deadline. Only a final answer (refused, bad signature) fails it.
    const backoff = new Backoff(this.opts.downloadRetry ?? DOWNLOAD_RETRY);
    let fetched: FetchedArtifact;
    for (;;) {
      fetched = await untilAborted(
        this.opts.fetchArtifact({ buildId: job.buildId!, patchId: job.patchId, moduleName: job.moduleName, kernelRelease: job.kernelRelease, signal }),
        signal,
      );
      if (fetched.ok || !fetched.retryable) break;
      const delay = Math.max(100, backoff.next());
      this.addLog(this.jobs.get(job.jobId)!, `${fetched.reason}; trying again in ${(delay / 1000).toFixed(1)} s`);
      await untilAborted(new Promise<void>((resolve) => this.timers.setTimeout(resolve, delay)), signal);
    }
    if (!fetched.ok) throw new Error(fetched.reason);
    const { fields, bytes, signature } = fetched;
    // The signature covers these: a console bug or a replayed build must not load another patch.
    if (fields.moduleName !== job.moduleName) throw new Error(`the signed artifact is module ${fields.moduleName}, but the job is for ${job.moduleName}; not loading it`);
    if (fields.patchId !== job.patchId) throw new Error(`the signed artifact is for patch ${fields.patchId}, but the job is for patch ${job.patchId}; not loading it`);
    this.addLog(this.jobs.get(job.jobId)!, `downloaded ${bytes.length} bytes, sha256 ${fields.artifactSha256}, signature verified with the console's pinned key`);
    return { fields, bytes, signature };
  }

  /** "downloading", "applying", "reverting", … for "timed out after N s while …". */
  private activity(entry: Entry): string {
    const { phase, job } = entry.rec;
    if (phase === JOB_PHASE.applying) return job.kind === "revert" ? "reverting" : "applying"; // text, not a state
    if (phase === "accepted") return "starting";
    return phase;
  }

  private async setPhase(entry: Entry, phase: JobPhase, line?: string): Promise<void> {
    if (line) this.addLog(entry, line);
    if (entry.rec.phase === phase || isFinal(entry.rec)) return;
    entry.rec.phase = phase;
    await this.persistAndReport(entry);
  }

  private finish(entry: Entry, result: Pick<JobRecord, "phase" | "error" | "blockingTasks">, line?: string): void {
    // The wire allows 2000 characters; a chatty insmod must not make the update unsendable.
    if (result.error !== undefined && result.error.length > MAX_ERROR_CHARS) result = { ...result, error: result.error.slice(0, MAX_ERROR_CHARS - 1) + "…" };
    // Command output may hold NULs, and a cut may split a surrogate pair: the console refuses both.
    if (result.error !== undefined) result = { ...result, error: toStorableText(result.error) };
    Object.assign(entry.rec, result, { finishedAt: this.isoNow() });
    this.addLog(entry, line ?? (result.phase === JOB_PHASE.failed ? `failed: ${result.error}` : result.phase));
  }

  private async finishAndReport(entry: Entry, result: Pick<JobRecord, "phase" | "error" | "blockingTasks">, line?: string): Promise<void> {
    this.finish(entry, result, line);
    this.log.info(`job ${result.phase}`, { jobId: entry.rec.job.jobId, kind: entry.rec.job.kind, module: entry.rec.job.moduleName, error: result.error });
    await this.persistAndReport(entry);
    this.opts.onFinished?.(entry.rec);
    this.pruneNowAndThen();
  }

  private async persistAndReport(entry: Entry): Promise<void> {
    this.changed(entry);
    await this.persist(entry);
  }

  /** The record changed: it needs (re)sending. Persisting is the caller's. */
  private changed(entry: Entry): void {
    entry.version++;
    entry.rec.acked = false;
    this.opts.onChange?.(entry.rec);
    this.deliver(entry);
  }

  private async persist(entry: Entry): Promise<void> {
    try {
      await this.opts.store.save(entry.rec);
    } catch (err) {
      this.log.error("could not record a job's progress", { jobId: entry.rec.job.jobId, error: errorMessage(err) });
    }
  }

  private addLog(entry: Entry, line: string): void {
    const stamped = `${this.isoNow()} ${line}`;
    entry.rec.log.push(toStorableText(stamped.length > MAX_LOG_LINE_CHARS ? stamped.slice(0, MAX_LOG_LINE_CHARS - 1) + "…" : stamped));
    if (entry.rec.log.length > MAX_JOB_LOG_LINES) entry.rec.log.splice(0, entry.rec.log.length - MAX_JOB_LOG_LINES);
  }

  /** One send loop per job: a newer state sent once the older is answered (fast phases coalesce). */
  private deliver(entry: Entry): void {
    if (!this.online || this.stopped || entry.sending) return;
    if (entry.rec.acked && !entry.resendFinal) return;
    void this.sendLoop(entry);
  }

  private async sendLoop(entry: Entry): Promise<void> {
    entry.sending = true;
    this.clearResend(entry);
    try {
      while (this.online && !this.stopped && (!entry.rec.acked || entry.resendFinal)) {
        entry.resendFinal = false;
        const version = entry.version;
        const epoch = this.epoch;
        let acked = false;
        try {
          acked = await this.opts.send(jobUpdateOf(entry.rec));
        } catch (err) {
          this.log.warn("could not send a job update", { jobId: entry.rec.job.jobId, error: errorMessage(err) });
        }
        if (!acked) {
          if (this.online && this.epoch !== epoch) continue; // lost to a reconnect: the new link takes it now
          if (this.online && !this.stopped) this.scheduleResend(entry);
          return;
        }
        if (entry.version === version && !entry.rec.acked) {
          entry.rec.acked = true;
          await this.persist(entry);
        }
      }
    } finally {
      entry.sending = false;
    }
  }

  private scheduleResend(entry: Entry): void {
    this.clearResend(entry);
    entry.resendTimer = this.timers.setTimeout(() => {
      entry.resendTimer = null;
      this.deliver(entry);
    }, this.opts.resendMs ?? 10_000);
  }

  private clearResend(entry: Entry): void {
    if (entry.resendTimer === null) return;
    this.timers.clearTimeout(entry.resendTimer);
    entry.resendTimer = null;
  }

  /** A long-running agent forgets old finished jobs too, not only at start. */
  private pruneNowAndThen(): void {
    const now = this.timers.now();
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    for (const [id, entry] of this.jobs) {
      if (!isPrunable(entry.rec, now - this.retentionMs)) continue;
      this.jobs.delete(id);
      this.opts.store.remove(id).catch((err: unknown) => this.log.warn("could not prune a job", { jobId: id, error: errorMessage(err) }));
    }
  }

  private isoNow(): string {
    return new Date(this.timers.now()).toISOString();
  }
}

/** `promise`, or a rejection with the signal's reason as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err as Error);
      },
    );
  });
}
