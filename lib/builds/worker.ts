import "server-only";
import { randomUUID } from "node:crypto";
import os from "node:os";
import { prisma } from "@/lib/db/client";
import { Prisma } from "@/lib/generated/prisma/client";
import { log } from "@/lib/log";
import { listenBus, type BusListener } from "@/lib/db/bus";
import type { BuildRunSettings } from "./config";
import { claimNextBuild, handBack, retryDelayMs, type Claim } from "./queue";
import { runBuild, type BuildRuntime } from "./run";
import type { Builder } from "./types";

/** A running build worker: `concurrency` slots taking builds from the queue (lib/builds/queue.ts). */
export interface BuildWorker {
  readonly id: string;
  readonly name: string;
  /** Look for builds now (a build was queued). */
  kick(): void;
  /**
   * Stops taking builds; running ones may finish within the stop grace (or `graceMs`), then are
   * handed back to the queue for another worker. Resolves when no build of this worker runs. A
   * second call with a shorter grace cuts the wait (a second Ctrl-C).
   */
  stop(graceMs?: number): Promise<void>;
}

// Rows of workers gone this long are deleted when a worker starts (their builds keep their logs).
const FORGET_AFTER_DAYS = 7;

/**
 * Starts a build worker in this process: registers it (BuildWorker: name, host, builder, the
 * releases it has prepared), keeps its heartbeat, and runs `concurrency` builds at a time. With
 * `databaseUrl` it listens on the bus for new builds itself; a console passes its own bus events
 * to kick() instead. Without either it still polls, every few seconds.
 */
export async function startBuildWorker(opts: {
  kind: "console" | "worker";
  builder: Builder;
  concurrency: number;
  run: BuildRunSettings;
  databaseUrl?: string;
}): Promise<BuildWorker> {
  const id = randomUUID();
  const name = opts.run.workerName;
  const hostname = os.hostname();
  const rt: BuildRuntime = { builder: opts.builder, workerId: id, workerName: name, workerHost: `${hostname}, pid ${process.pid}`, timeoutMs: opts.run.timeoutMs, leaseMs: opts.run.leaseMs };
  // Releases this process has built for (its builder's cache is warm for them), beside those the
  // builder reports as prepared on disk (a restarted worker keeps its cache).
  const touched = new Set<string>();
  const prepared = async (): Promise<string[]> => {
    const fromBuilder = await opts.builder.preparedReleases?.().catch((err: unknown) => {
      log.warn({ err }, "the builder could not list its prepared releases");
      return [];
    });
    return [...new Set([...(fromBuilder ?? []), ...touched])].sort();
  };
  const running = new Map<string, Claim>();
  const leaseSec = opts.run.leaseMs / 1000;

  await prisma.$executeRaw`delete from "BuildWorker" where "aliveUntil" < now() - make_interval(days => ${FORGET_AFTER_DAYS})`;
  await prisma.$executeRaw`
    insert into "BuildWorker" (id, name, kind, hostname, pid, builder, concurrency, releases, "aliveUntil")
    values (${id}::uuid, ${name}, ${opts.kind}, ${hostname}, ${process.pid}, ${opts.builder.name}, ${opts.concurrency}, ${await prepared()}::text[],
      now() + make_interval(secs => ${leaseSec}))`;

  const heartbeat = async (final = false) => {
    await prisma.$executeRaw`
      update "BuildWorker" set "lastSeenAt" = now(), "aliveUntil" = now() + make_interval(secs => ${leaseSec}),
        running = ${running.size}, releases = ${await prepared()}::text[], "stoppedAt" = ${final ? Prisma.sql`now()` : Prisma.sql`null`}
      where id = ${id}::uuid`;
  };
  const beat = setInterval(() => void heartbeat().catch((err) => log.warn({ err }, "build worker heartbeat failed")), opts.run.leaseMs / 3);

  // Idle slots sleep until kicked or until the poll interval (which also finds builds whose
  // worker died: their lease lapsed, and no event says so).
  const pollMs = Math.min(5_000, opts.run.leaseMs / 2);
  let wakers: (() => void)[] = [];
  const kick = () => {
    const w = wakers;
    wakers = [];
    for (const f of w) f();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wakers = wakers.filter((w) => w !== done);
        resolve();
      }
      wakers.push(done);
    });

  // Two steps of shutdown: `quitting` takes no more builds; `stopping` stops those running (runBuild hands them back).
  let quitting = false;
  const stopping = new AbortController();
  const slot = async (n: number) => {
    while (!quitting) {
      let claim: Claim | null = null;
      try {
        claim = await claimNextBuild({ workerId: id, workerName: name, builder: opts.builder.name, leaseMs: opts.run.leaseMs, prepared: await prepared() });
      } catch (err) {
        log.error({ err, slot: n }, "could not claim a build");
      }
      if (!claim) {
        if (!quitting) await sleep(pollMs);
        continue;
      }
      running.set(claim.buildId, claim);
      touched.add(claim.kernelRelease);
      void heartbeat().catch(() => {});
      try {
        const outcome = await runBuild(rt, claim, stopping.signal);
        log.info({ buildId: claim.buildId, kernelRelease: claim.kernelRelease, outcome, worker: name }, "build ran");
      } catch (err) {
        // runBuild records what it can; this is what it could not (the database went away).
        log.error({ err, buildId: claim.buildId }, "build run failed; handing it back");
        await handBack(claim, id, { retryAfterMs: retryDelayMs(claim.attempt) }).catch(() => {});
        if (!quitting) await sleep(pollMs);
      } finally {
        running.delete(claim.buildId);
      }
    }
  };
  const slots = Array.from({ length: opts.concurrency }, (_, i) => slot(i));

  let bus: BusListener | null = null;
  if (opts.databaseUrl) {
    bus = await listenBus(opts.databaseUrl, (ev) => {
      if (ev.type === "builds.changed" && !ev.log) kick();
    });
  }
  log.info({ worker: name, id, builder: opts.builder.name, concurrency: opts.concurrency }, "build worker started");

  let stopped: Promise<void> | null = null;
  let graceUntil = Infinity;
  let graceTimer: NodeJS.Timeout | undefined;
  let endGrace: () => void = () => {};
  const graceOver = new Promise<void>((r) => (endGrace = r));
  return {
    id,
    name,
    kick,
    stop(graceMs = opts.run.stopGraceMs) {
      const deadline = Date.now() + graceMs;
      if (deadline < graceUntil) {
        graceUntil = deadline;
        clearTimeout(graceTimer);
        graceTimer = setTimeout(() => endGrace(), Math.max(0, deadline - Date.now()));
      }
      stopped ??= (async () => {
        quitting = true;
        kick();
        const all = Promise.all(slots);
        await Promise.race([all, graceOver]);
        clearTimeout(graceTimer);
        if (running.size > 0) log.info({ running: running.size, worker: name }, "build worker stopping: handing running builds back to the queue");
        stopping.abort();
        await all;
        clearInterval(beat);
        await bus?.close();
        await heartbeat(true).catch((err) => log.warn({ err }, "could not mark the build worker stopped"));
      })();
      return stopped;
    },
  };
}
