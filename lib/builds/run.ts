import "server-only";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { SYSTEM } from "@/lib/audit/actor";
import { appendAudit } from "@/lib/audit/append";
import { prisma } from "@/lib/db/client";
import { log } from "@/lib/log";
import type { PatchAnalysis } from "@/lib/patches/types";
import { notify, publish } from "@/lib/realtime/bus";
import { putArtifact } from "./artifact-store";
import type { SigningKey } from "./signing";
import { BuildFailure, type Builder } from "./types";

export interface BuildRuntime {
  builder: Builder;
  dataDir: string;
  signingKey: SigningKey;
  timeoutMs: number;
  /** How long a claim on a build lasts without renewal (renewed every third of it). */
  leaseMs: number;
}

const MAX_LOG_BYTES = 512 * 1024;
const LOG_FLUSH_MS = 300;

/**
 * Runs one build if nobody else is: the claim is one conditional UPDATE (queued, or building
 * under a lapsed lease, i.e. its process died), so a job delivered twice or to two processes
 * builds once. Build failures are recorded; any other error puts the build back in the queue and
 * is rethrown for the job queue to retry.
 */
export async function runBuild(rt: BuildRuntime, buildId: string): Promise<"built" | "failed" | "skipped"> {
  const leaseSec = rt.leaseMs / 1000;
  const [claim] = await prisma.$queryRaw<{ patchId: string; kernelRelease: string; attempts: number }[]>`
    update "Build" set status = 'building', "leaseUntil" = now() + make_interval(secs => ${leaseSec}),
      attempts = attempts + 1, "startedAt" = now(), builder = ${rt.builder.name}, error = null,
      log = case when status = 'building' then log || E'\n--- the process building this stopped; building again ---\n' else log end
    where id = ${buildId}::uuid and (status = 'queued' or (status = 'building' and "leaseUntil" < now()))
    returning "patchId"::text, "kernelRelease", attempts`;
  if (!claim) return "skipped";
  const patch = await prisma.patch.findUniqueOrThrow({ where: { id: claim.patchId }, select: { diff: true, analysis: true, title: true } });
  await publish({ type: "builds.changed", patchId: claim.patchId, buildId });

  let pending: string[] = [];
  let logged = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const chunk = pending.join("");
    pending = [];
    await prisma.$executeRaw`update "Build" set log = log || ${chunk} where id = ${buildId}::uuid`;
    await publish({ type: "builds.changed", patchId: claim.patchId, buildId, log: true });
  };
  const appendLog = (line: string) => {
    if (logged > MAX_LOG_BYTES) return;
    const text = `${line.replace(/\r?\n$/, "")}\n`;
    logged += text.length;
    pending.push(logged > MAX_LOG_BYTES ? "--- log truncated ---\n" : text);
  };
  const flusher = setInterval(() => void flush().catch((err) => log.warn({ err, buildId }, "build log flush failed")), LOG_FLUSH_MS);
  const renewer = setInterval(() => {
    prisma.$executeRaw`update "Build" set "leaseUntil" = now() + make_interval(secs => ${leaseSec}) where id = ${buildId}::uuid and status = 'building'`.catch(
      (err) => log.warn({ err, buildId }, "build lease renewal failed"),
    );
  }, rt.leaseMs / 3);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error("timeout")), rt.timeoutMs);
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), "splicer-build-"));
  appendLog(`build ${buildId}: ${patch.title} for ${claim.kernelRelease} (builder ${rt.builder.name}, attempt ${claim.attempts})`);
  try {
    const artifact = await rt.builder.build({
      buildId,
      patchId: claim.patchId,
      kernelRelease: claim.kernelRelease,
      diff: patch.diff,
      analysis: patch.analysis as unknown as PatchAnalysis,
      workDir,
      signal: abort.signal,
      log: appendLog,
    });
    const stored = await putArtifact({ dataDir: rt.dataDir, bytes: artifact.bytes });
    const signature = rt.signingKey.sign({ artifactSha256: stored.sha256, patchId: claim.patchId, kernelRelease: claim.kernelRelease, moduleName: artifact.moduleName });
    appendLog(`artifact ${artifact.fileName}: ${stored.size} bytes, sha256 ${stored.sha256}, signed`);
    await flush();
    await finish(buildId, claim, { status: "succeeded", artifactSha256: stored.sha256, artifactSize: stored.size, moduleName: artifact.moduleName, signature });
    return "built";
  } catch (err) {
    if (err instanceof BuildFailure || abort.signal.aborted) {
      const message = abort.signal.aborted && !(err instanceof BuildFailure) ? `timed out after ${rt.timeoutMs / 1000} s` : (err as Error).message;
      appendLog(`build failed: ${message}`);
      await flush();
      const refused = err instanceof BuildFailure && err.reason === "refused";
      await finish(buildId, claim, { status: "failed", error: message, ...(refused ? { refusedBy: rt.builder.name } : {}) });
      return "failed";
    }
    // Not the build's fault (database, disk, a missing builder binary): back to the queue.
    appendLog(`infrastructure error, will retry: ${(err as Error).message}`);
    await flush().catch(() => {});
    await prisma.$executeRaw`update "Build" set status = 'queued', "leaseUntil" = null where id = ${buildId}::uuid and status = 'building'`.catch(() => {});
    throw err;
  } finally {
    clearInterval(flusher);
    clearInterval(renewer);
    clearTimeout(timer);
    await fs.rm(workDir, { recursive: true, force: true }).catch(() => {});
  }
}

async function finish(
  buildId: string,
  claim: { patchId: string; kernelRelease: string },
  result: { status: "succeeded"; artifactSha256: string; artifactSize: number; moduleName: string; signature: string } | { status: "failed"; error: string; refusedBy?: string },
): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const { refusedBy, ...row } = { refusedBy: undefined, ...result };
    await tx.build.update({ where: { id: buildId }, data: { ...row, finishedAt: new Date(), leaseUntil: null } });
    // The patch's analysis says what a builder refused and why, per release (one statement, so
    // builds of several releases finishing at once cannot overwrite each other's entries).
    if (refusedBy && result.status === "failed") {
      await tx.$executeRaw`
        update "Patch" set analysis = jsonb_set(analysis, '{builderRefusals}',
          coalesce(analysis->'builderRefusals', '{}'::jsonb) || jsonb_build_object(${claim.kernelRelease}::text, jsonb_build_object('builder', ${refusedBy}::text, 'message', ${result.error}::text)))
        where id = ${claim.patchId}::uuid`;
    } else {
      await tx.$executeRaw`update "Patch" set analysis = analysis #- array['builderRefusals', ${claim.kernelRelease}::text] where id = ${claim.patchId}::uuid and analysis ? 'builderRefusals'`;
    }
    await notify(tx, { type: "builds.changed", patchId: claim.patchId, buildId });
    await appendAudit(tx, {
      actor: SYSTEM,
      action: result.status === "succeeded" ? "build.succeeded" : "build.failed",
      target: { type: "build", id: buildId },
      details: { patchId: claim.patchId, kernelRelease: claim.kernelRelease, ...(result.status === "succeeded" ? { artifactSha256: result.artifactSha256, moduleName: result.moduleName } : { error: result.error }) },
    });
  });
}
