// Where the agent keeps every job it has seen, so a repeated `job` message is answered from here
// instead of run again, and a job cut short by a crash is found and resumed at start.
import * as nodeFs from "node:fs/promises";
import * as path from "node:path";
import { z } from "zod";
import { BlockingTaskSchema, FINAL_JOB_PHASES, JobPhaseSchema, JobSchema, type JobUpdate } from "../protocol";
import { errorMessage, silentLogger, type Logger } from "../log";
import { writeFileAtomic } from "../durable-file";

export const JobRecordSchema = z.object({
  job: JobSchema,
  phase: JobPhaseSchema,
  error: z.string().optional(),
  /** Newest lines last; at most MAX_JOB_LOG_LINES kept. */
  log: z.array(z.string()),
  blockingTasks: z.array(BlockingTaskSchema).optional(),
  receivedAt: z.string(),
  finishedAt: z.string().optional(),
  /** The console acknowledged the latest update of this job. */
  acked: z.boolean(),
  /** Arrival order, to resume interrupted jobs in the order they came. */
  seq: z.number().int().nonnegative(),
});
export type JobRecord = z.infer<typeof JobRecordSchema>;

export function isFinal(rec: Pick<JobRecord, "phase">): boolean {
  return FINAL_JOB_PHASES.includes(rec.phase);
}

/** The update that reports `rec` to the console. */
export function jobUpdateOf(rec: JobRecord): JobUpdate {
  return {
    jobId: rec.job.jobId,
    phase: rec.phase,
    log: [...rec.log],
    ...(rec.error !== undefined && { error: rec.error }),
    ...(rec.blockingTasks !== undefined && { blockingTasks: rec.blockingTasks }),
    ...(rec.finishedAt !== undefined && { finishedAt: rec.finishedAt }),
  };
}

/** Final, acknowledged and finished before `beforeMs`: nothing left to report or to dedupe against. */
export function isPrunable(rec: JobRecord, beforeMs: number): boolean {
  return isFinal(rec) && rec.acked && rec.finishedAt !== undefined && Date.parse(rec.finishedAt) < beforeMs;
}

export interface JobStore {
  /** Every stored job; unreadable ones are logged and skipped. Prunable ones are deleted, not returned. */
  load(opts?: { pruneBefore?: number }): Promise<JobRecord[]>;
  /** Durable when it resolves (the file store writes atomically). Saves of one job land in call order. */
  save(rec: JobRecord): Promise<void>;
  remove(jobId: string): Promise<void>;
}

function copy(rec: JobRecord): JobRecord {
  return { ...rec, job: { ...rec.job }, log: [...rec.log], ...(rec.blockingTasks && { blockingTasks: rec.blockingTasks.map((t) => ({ ...t })) }) };
}

/** Jobs in memory: the fleet simulator, whose kernels live in memory too, and tests. */
export class MemoryJobStore implements JobStore {
  readonly records = new Map<string, JobRecord>();

  async load(opts: { pruneBefore?: number } = {}): Promise<JobRecord[]> {
    const out: JobRecord[] = [];
    for (const [id, rec] of this.records) {
      if (opts.pruneBefore !== undefined && isPrunable(rec, opts.pruneBefore)) this.records.delete(id);
      else out.push(copy(rec));
    }
    return out;
  }

  async save(rec: JobRecord): Promise<void> {
    this.records.set(rec.job.jobId, copy(rec));
  }

  async remove(jobId: string): Promise<void> {
    this.records.delete(jobId);
  }
}

export type JobStoreFs = Pick<typeof nodeFs, "mkdir" | "writeFile" | "rename" | "readFile" | "rm" | "chmod" | "open" | "readdir">;

export interface FileJobStoreOptions {
  /** <stateDir>/jobs: one <jobId>.json per job. */
  dir: string;
  log?: Logger;
  fs?: JobStoreFs;
}

/** One JSON file per job (0600, written atomically), in a 0700 directory. */
export class FileJobStore implements JobStore {
  readonly dir: string;
  private readonly log: Logger;
  private readonly fs: JobStoreFs;
  private dirReady: Promise<void> | null = null;
  /** Per job, the last write: the next one waits for it, so an older state never lands last. */
  private readonly writes = new Map<string, Promise<void>>();

  constructor(opts: FileJobStoreOptions) {
    this.dir = opts.dir;
    this.log = opts.log ?? silentLogger;
    this.fs = opts.fs ?? nodeFs;
  }

  fileOf(jobId: string): string {
    // Job ids are UUIDs (validated by JobSchema), so they are safe file names.
    return path.join(this.dir, `${jobId}.json`);
  }

  async load(opts: { pruneBefore?: number } = {}): Promise<JobRecord[]> {
    let names: string[];
    try {
      names = await this.fs.readdir(this.dir);
    } catch (err) {
      if ((err as { code?: string }).code === "ENOENT") return [];
      this.log.error("cannot read the job directory; previous jobs are unknown", { dir: this.dir, error: errorMessage(err) });
      return [];
    }
    const out: JobRecord[] = [];
    for (const name of names.sort()) {
      const file = path.join(this.dir, name);
      if (name.startsWith(".") && name.endsWith(".tmp")) {
        // A write interrupted by a crash; the job's previous file (if any) is intact.
        await this.fs.rm(file, { force: true }).catch(() => undefined);
        continue;
      }
      if (!name.endsWith(".json")) continue;
      let rec: JobRecord;
      try {
        const parsed = JobRecordSchema.safeParse(JSON.parse(await this.fs.readFile(file, "utf8")));
        if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
        rec = parsed.data;
        if (name !== `${rec.job.jobId}.json`) throw new Error(`holds job ${rec.job.jobId}`);
      } catch (err) {
        this.log.warn("skipping an unreadable job file", { file, error: errorMessage(err) });
        continue;
      }
      if (opts.pruneBefore !== undefined && isPrunable(rec, opts.pruneBefore)) {
        await this.fs.rm(file, { force: true }).catch((err: unknown) => this.log.warn("could not prune a job file", { file, error: errorMessage(err) }));
        continue;
      }
      out.push(rec);
    }
    return out;
  }

  save(rec: JobRecord): Promise<void> {
    const id = rec.job.jobId;
    const data = JSON.stringify(rec) + "\n";
    const prev = this.writes.get(id) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(async () => {
      await this.ensureDir();
      await writeFileAtomic(this.fileOf(id), data, 0o600, this.fs);
    });
    this.writes.set(id, next);
    const forget = () => {
      if (this.writes.get(id) === next) this.writes.delete(id);
    };
    next.then(forget, forget);
    return next;
  }

  async remove(jobId: string): Promise<void> {
    await (this.writes.get(jobId) ?? Promise.resolve()).catch(() => undefined);
    await this.fs.rm(this.fileOf(jobId), { force: true });
  }

  private ensureDir(): Promise<void> {
    this.dirReady ??= (async () => {
      await this.fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
      await this.fs.chmod(this.dir, 0o700);
    })().catch((err: unknown) => {
      this.dirReady = null;
      throw err;
    });
    return this.dirReady;
  }
}
