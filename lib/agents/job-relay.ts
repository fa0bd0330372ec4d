import "server-only";
import type { Socket } from "socket.io";
import { z } from "zod";
import { JOB_PHASE, JobUpdateSchema, toStorableText, type Job, type JobAck, type JobUpdate } from "@/agent/protocol";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics";
import { writeIsolatingBadRows, rowErrorMessage } from "@/lib/db/isolate";
import { applyJobUpdates, dispatchedJobs, openJobsForHost } from "@/lib/rollouts/jobs";
import { RefusedMessage } from "./validate";

const FLUSH_MS = 100;
const JOB_ACK_TIMEOUT_MS = 15_000;

type Pending = { hostId: string; update: JobUpdate; done: (err?: unknown) => void };

/**
 * Carries rollout jobs between the database and the agents connected to this process: sends a
 * host its jobs when they are dispatched or when it (re)connects, and records the agents' job
 * updates in batches. An update is acknowledged to the agent only once it is committed, so an
 * agent keeps resending what a crashed console never stored.
 */
export class JobRelay {
  private pending: Pending[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly agents: Map<string, Socket>) {}

  /** Queues an agent's update; resolves when it is stored. */
  record(hostId: string, update: JobUpdate): Promise<void> {
    // Checked alone before it joins a batch: the batch parses every update, and one that fails
    // there would fail the others with it.
    const parsed = JobUpdateSchema.safeParse(update);
    if (!parsed.success) return Promise.reject(new RefusedMessage(`invalid job_update: ${z.prettifyError(parsed.error)}`));
    return new Promise((resolve, reject) => {
      this.pending.push({ hostId, update, done: (err) => (err ? reject(err) : resolve()) });
      this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
    });
  }

  async flush(): Promise<void> {
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.flushing = this.flushing.then(async () => {
      // One statement for the batch; an update the database refuses is isolated (the batch is
      // split until it is alone) so that one host's bad row never costs other hosts their results.
      let updated = 0;
      const r = await writeIsolatingBadRows(batch, async (part) => {
        updated += (await applyJobUpdates(part.map(({ hostId, update }) => ({ hostId, update })))).updated;
      });
      const refused = new Set(r.refused.map((x) => x.item));
      const failed = new Set(r.failed.map((x) => x.item));
      metrics.jobUpdates.inc({ result: "stored" }, updated);
      metrics.jobUpdates.inc({ result: "refused" }, refused.size);
      metrics.jobUpdates.inc({ result: "ignored" }, batch.length - updated - refused.size - failed.size);
      if (r.failed.length) log.error({ err: r.failed[0].error, updates: r.failed.length }, "could not store job updates");
      for (const { item, error } of r.refused) {
        log.warn({ err: error, hostId: item.hostId, jobId: item.update.jobId }, "job update refused by the database; dropped");
        item.done(new RefusedMessage(`the console cannot store this job update (${rowErrorMessage(error)}); it is dropped`));
      }
      for (const { item, error } of r.failed) item.done(error);
      for (const p of batch) if (!refused.has(p) && !failed.has(p)) p.done();
    });
    await this.flushing;
  }

  /** Sends a job; the agent answers with the job's phase (it may know the job already) or a refusal. */
  send(socket: Socket, job: Job): void {
    const hostId = socket.data.hostId as string;
    socket
      .timeout(JOB_ACK_TIMEOUT_MS)
      .emitWithAck("job", job)
      .then(
        (ack: JobAck) => {
          metrics.jobsSent.inc();
          if (ack && ack.ok === false) {
            // The agent refused the job outright (e.g. it cannot parse it): that is its result.
            const error = toStorableText(`the agent refused the job: ${String(ack.error).slice(0, 1000)}`);
            void this.record(hostId, { jobId: job.jobId, phase: JOB_PHASE.failed, error, log: [] }).catch(() => {});
          }
        },
        () => log.warn({ hostId, jobId: job.jobId }, "agent did not acknowledge a job in time; it is sent again when the agent reconnects"),
      );
  }

  /** A host connected here: send it every job it has not finished. */
  async onConnected(socket: Socket): Promise<void> {
    const jobs = await openJobsForHost(socket.data.hostId as string);
    for (const job of jobs) if (socket.connected) this.send(socket, job);
  }

  /** An engine (in any process) dispatched hosts: send the jobs of the hosts connected here. */
  async onDispatched(ev: { rolloutId: string; at: string }): Promise<void> {
    const jobs = await dispatchedJobs(ev);
    for (const { hostId, job } of jobs) {
      const socket = this.agents.get(hostId);
      if (socket?.connected) this.send(socket, job);
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.flush();
  }
}
