import "server-only";
import os from "node:os";
import { log } from "@/lib/log";
import { backfillArtifacts } from "./artifacts";
import { createBuilder } from "./builders";
import type { ConsoleBuildConfig } from "./config";
import { planMissingBuilds } from "./plan";
import { requeueStaleBuilds } from "./stacks";
import { prisma } from "@/lib/db/client";
import { publish } from "@/lib/db/bus";
import { recordFinishedBuilds } from "./recorder";
import { loadSigningKey } from "@/lib/signing/signing";
import { startBuildWorker, type BuildWorker } from "./worker";

const SWEEP_MS = 10_000;

export interface BuildService {
  /** Something about builds changed (a build queued, a worker's result arrived): act on it now. */
  kick(): void;
  stop(): Promise<void>;
}

/**
 * A console's part in builds: it plans builds for kernel releases new to the fleet, records what
 * workers finished (checks and signs artifacts, writes the audit events: the keys are the
 * console's), and, unless told not to (SPLICER_BUILD_WORKERS=0), runs builds itself as one more
 * build worker. Build workers elsewhere (`npm run build-worker`) take builds from the same queue.
 */
export async function startBuildService(opts: { dataDir: string; config: ConsoleBuildConfig }): Promise<BuildService> {
  const signingKey = await loadSigningKey({ dataDir: opts.dataDir });
  const recorder = `console ${os.hostname()}/${process.pid}`;
  void backfillArtifacts({ dataDir: opts.dataDir }).then(
    (n) => n > 0 && log.info({ artifacts: n }, "copied artifacts from this console's disk into the database"),
    (err) => log.error({ err }, "could not copy artifacts into the database"),
  );

  let worker: BuildWorker | null = null;
  if (opts.config.workers > 0 && opts.config.builder) {
    worker = await startBuildWorker({ kind: "console", builder: createBuilder(opts.config.builder, { dataDir: opts.dataDir }), concurrency: opts.config.workers, run: opts.config.run });
  } else {
    log.info("this console runs no builds (SPLICER_BUILD_WORKERS=0): builds wait for build workers (npm run build-worker)");
  }

  let sweeping: Promise<void> | null = null;
  let again = false;
  const sweep = (plan: boolean) => {
    if (sweeping) {
      again = true;
      return;
    }
    sweeping = (async () => {
      if (plan) await planMissingBuilds();
      const recorded = await recordFinishedBuilds({ signingKey, dataDir: opts.dataDir, recorder });
      // A build just finished, or time passed (a rollback may have freed one): stacking kept current.
      if (plan || recorded > 0) {
        const requeued = await requeueStaleBuilds(prisma);
        for (const b of requeued) await publish({ type: "builds.changed", patchId: b.patchId, buildId: b.id });
        if (requeued.length > 0) log.info({ builds: requeued }, "builds queued again: the patches they are built on changed");
      }
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
  return {
    kick() {
      sweep(false);
      worker?.kick();
    },
    async stop() {
      clearInterval(timer);
      await worker?.stop();
      // Results that arrived while stopping are recorded now, not at the next start.
      again = false;
      await sweeping;
      await recordFinishedBuilds({ signingKey, dataDir: opts.dataDir, recorder }).catch((err) => log.warn({ err }, "could not record finished builds at stop"));
    },
  };
}
