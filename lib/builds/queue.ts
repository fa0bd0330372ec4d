import "server-only";
import PgBoss from "pg-boss";
import { prisma } from "@/lib/db/client";
import { log } from "@/lib/log";
import { createBuilder, loadBuilderConfig } from "./builders";
import { planMissingBuilds } from "./plan";
import { runBuild, type BuildRuntime } from "./run";
import { loadSigningKey } from "./signing";

const QUEUE = "build";
const SWEEP_MS = 10_000;

export interface BuildService {
  /** Enqueue every build that is waiting (cheap; duplicates are dropped by the queue). */
  kick(): void;
  stop(): Promise<void>;
}

/**
 * The build workers of one console process: a pg-boss queue (durable, in Postgres), N workers,
 * and a sweep that plans builds for kernel releases new to the fleet and re-enqueues builds whose
 * job was lost (a crash between commit and enqueue) or whose builder died (lapsed lease).
 */
export async function startBuildService(opts: { databaseUrl: string; dataDir: string; env?: Record<string, string | undefined> }): Promise<BuildService> {
  const env = opts.env ?? process.env;
  const config = loadBuilderConfig(env);
  const builder = createBuilder(config, { dataDir: opts.dataDir });
  const timeoutMs = Number(env.SPLICER_BUILD_TIMEOUT_SEC ?? 1800) * 1000;
  const concurrency = Math.max(1, Number(env.SPLICER_BUILD_CONCURRENCY ?? 2));
  const rt: BuildRuntime = {
    builder,
    dataDir: opts.dataDir,
    signingKey: await loadSigningKey({ dataDir: opts.dataDir }),
    timeoutMs,
    leaseMs: Number(env.SPLICER_BUILD_LEASE_SEC ?? 30) * 1000,
  };
  const boss = new PgBoss({ connectionString: opts.databaseUrl, schema: "pgboss", max: 4, supervise: true, maintenanceIntervalSeconds: 60 });
  boss.on("error", (err) => log.error({ err }, "build queue error"));
  await boss.start();
  await boss.createQueue(QUEUE, {
    name: QUEUE,
    // At most one waiting job per build (the singleton key is the build id), but any number
    // running: a job whose console died stays "active" until it expires, and must not block its
    // replacement. Two running jobs cannot build twice: runBuild's claim lets one through.
    policy: "short",
    // Infrastructure errors only reach the queue (build failures are recorded, not thrown).
    retryLimit: 5,
    retryDelay: 5,
    retryBackoff: true,
    expireInSeconds: Math.ceil(timeoutMs / 1000) + 120,
  });
  for (let i = 0; i < concurrency; i++) {
    await boss.work<{ buildId: string }>(QUEUE, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
      await runBuild(rt, job.data.buildId);
    });
  }

  const enqueueWaiting = async () => {
    const waiting = await prisma.$queryRaw<{ id: string }[]>`
      select id::text from "Build"
      where status = 'queued' or (status = 'building' and "leaseUntil" < now())
      order by "queuedAt" limit 1000`;
    for (const b of waiting) await boss.send(QUEUE, { buildId: b.id }, { singletonKey: b.id });
  };
  let sweeping: Promise<void> | null = null;
  let again = false;
  const sweep = (plan: boolean) => {
    if (sweeping) {
      again = true;
      return;
    }
    sweeping = (async () => {
      if (plan) await planMissingBuilds();
      await enqueueWaiting();
    })()
      .catch((err) => log.error({ err }, "build sweep failed"))
      .finally(() => {
        sweeping = null;
        if (again) {
          again = false;
          sweep(false);
        }
      });
  };
  sweep(true);
  const timer = setInterval(() => sweep(true), SWEEP_MS);
  log.info({ builder: builder.name, concurrency }, "build workers started");
  return {
    kick: () => sweep(false),
    async stop() {
      clearInterval(timer);
      await sweeping;
      await boss.stop({ graceful: true, timeout: 10_000, wait: true }).catch((err) => log.warn({ err }, "build queue stop"));
    },
  };
}
