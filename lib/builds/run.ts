import "server-only";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { prisma } from "@/lib/db/client";
import { log } from "@/lib/log";
import type { PatchAnalysis } from "@/lib/analysis/types";
import { storeArtifact } from "./artifacts";
import { earlierPatches } from "./stacks";
import { appendBuildLog, handBack, renewLease, retryDelayMs, submitResult, type Claim } from "./queue";
import { BuildFailure, type Builder } from "./types";
import { BUILD_OUTCOME, BUILD_STATUS } from "@/lib/api/schemas";

/** One worker's side of running builds: which builder, under which name, with which limits. */
export interface BuildRuntime {
  builder: Builder;
  workerId: string;
  /** The worker's name, as builds' logs show it. */
  workerName: string;
  /** Where the worker runs, for the log's first line. */
  workerHost: string;
  timeoutMs: number;
  /** How long a claim lasts without renewal (renewed every third of it). */
  leaseMs: number;
}

export type RunOutcome = "built" | "not-built" | "handed-back" | "retry" | "lost";

const MAX_LOG_BYTES = 512 * 1024;
const LOG_FLUSH_MS = 300;

/** Why a build's signal was aborted: each ends differently (see runBuild). */
class Abort extends Error {
  constructor(readonly kind: "timeout" | "shutdown" | "lost") {
    super(kind);
  }
}

/**
 * Runs one claimed build and leaves its result for a console to record (the signature and the
 * audit event are a console's: a worker holds no key). A build failure (the patch, the compiler,
 * the timeout) is a result; anything else (database, disk, a missing tool) hands the build back
 * to the queue for a retry later, as does the worker's shutdown (`stopping`) if the build has
 * not finished by then. A worker that lost its claim stops and writes nothing more.
 */
export async function runBuild(rt: BuildRuntime, claim: Claim, stopping: AbortSignal): Promise<RunOutcome> {
  const patch = await prisma.patch.findUniqueOrThrow({ where: { id: claim.patchId }, select: { diff: true, analysis: true, title: true } });
  const earlier = await earlierPatches(prisma, { patchId: claim.patchId, kernelRelease: claim.kernelRelease });

  let pending: string[] = [];
  let logged = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const chunk = pending.join("");
    pending = [];
    await appendBuildLog(claim, rt.workerId, chunk);
  };
  const appendLog = (line: string) => {
    if (logged > MAX_LOG_BYTES) return;
    const text = `${line.replace(/\r?\n$/, "")}\n`;
    logged += text.length;
    pending.push(logged > MAX_LOG_BYTES ? "--- log truncated ---\n" : text);
  };
  const abort = new AbortController();
  const reason = () => (abort.signal.aborted ? (abort.signal.reason as Abort).kind : null);
  const flusher = setInterval(() => void flush().catch((err) => log.warn({ err, buildId: claim.buildId }, "build log flush failed")), LOG_FLUSH_MS);
  const renewer = setInterval(() => {
    renewLease(claim, rt.workerId, rt.leaseMs).then(
      (ours) => {
        if (!ours && !abort.signal.aborted) {
          log.warn({ buildId: claim.buildId }, "lost the claim on a build (its lease lapsed and another worker took it over); stopping it");
          abort.abort(new Abort("lost"));
        }
      },
      (err) => log.warn({ err, buildId: claim.buildId }, "build lease renewal failed"),
    );
  }, rt.leaseMs / 3);
  const timer = setTimeout(() => abort.abort(new Abort("timeout")), rt.timeoutMs);
  const onStop = () => abort.abort(new Abort("shutdown"));
  if (stopping.aborted) onStop();
  else stopping.addEventListener("abort", onStop, { once: true });
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), "splicer-build-"));
  appendLog(`build ${claim.buildId}: ${patch.title} for ${claim.kernelRelease} (builder ${rt.builder.name}, attempt ${claim.attempt}) on build worker ${rt.workerName} (${rt.workerHost})`);
  try {
    const artifact = await rt.builder.build({
      buildId: claim.buildId,
      patchId: claim.patchId,
      kernelRelease: claim.kernelRelease,
      diff: patch.diff,
      analysis: patch.analysis as unknown as PatchAnalysis,
      earlier,
      workDir,
      signal: abort.signal,
      log: appendLog,
    });
    // Built, even if a shutdown was asked meanwhile: the result is worth keeping.
    if (reason() === "lost") return "lost";
    const stored = await storeArtifact({ bytes: artifact.bytes });
    appendLog(`artifact ${artifact.fileName}: ${stored.size} bytes, sha256 ${stored.sha256}, stored; a console checks and signs it`);
    await flush();
    const ours = await submitResult(claim, rt.workerId, { status: BUILD_STATUS.succeeded, artifactSha256: stored.sha256, artifactSize: stored.size, moduleName: artifact.moduleName, report: artifact.report ?? null, worker: rt.workerName });
    return ours ? "built" : "lost";
  } catch (err) {
    const why = reason();
    if (why === "lost") return "lost";
    if (why === "shutdown") {
      appendLog(`--- build worker ${rt.workerName} is stopping: build handed back to the queue ---`);
      await flush().catch(() => {});
      return (await handBack(claim, rt.workerId)) ? "handed-back" : "lost";
    }
    if (err instanceof BuildFailure || why === "timeout") {
      const message = why === "timeout" && !(err instanceof BuildFailure && err.reason !== "timeout") ? `timed out after ${rt.timeoutMs / 1000} s` : (err as Error).message;
      appendLog(`build failed: ${message}`);
      await flush();
      const outcome = why === "timeout" ? "timeout" : (err as BuildFailure).reason;
      const ours = await submitResult(claim, rt.workerId, { status: BUILD_STATUS.failed, outcome, error: message, ...(outcome === BUILD_OUTCOME.refused ? { refusedBy: rt.builder.name } : {}), worker: rt.workerName });
      return ours ? "not-built" : "lost";
    }
    // Not the build's fault: back to the queue, for this or another worker to try again later.
    const delay = retryDelayMs(claim.attempt);
    log.error({ err, buildId: claim.buildId }, "build infrastructure error; handed back");
    appendLog(`infrastructure error on ${rt.workerName}, will retry in ${Math.round(delay / 1000)} s: ${(err as Error).message}`);
    await flush().catch(() => {});
    await handBack(claim, rt.workerId, { retryAfterMs: delay }).catch((e) => log.warn({ err: e, buildId: claim.buildId }, "could not hand a build back; its lease will lapse"));
    return "retry";
  } finally {
    clearInterval(flusher);
    clearInterval(renewer);
    clearTimeout(timer);
    stopping.removeEventListener("abort", onStop);
    await fs.rm(workDir, { recursive: true, force: true }).catch(() => {});
  }
}
