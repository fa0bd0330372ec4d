import "server-only";
import { BUILD_STATUS, type Build, type BuildWorkerInfo } from "@/lib/api/schemas";
import type { Actor } from "@/lib/audit/actor";
import { appendAudit } from "@/lib/audit/append";
import { prisma } from "@/lib/db/client";
import { Prisma } from "@/lib/generated/prisma/client";
import { ConflictError, NotFoundError } from "@/lib/errors";
import { notify } from "@/lib/db/bus";

/** A patch's builds, one per kernel release, with how many active hosts run each release. */
export async function listBuilds(patchId: string): Promise<Build[]> {
  const rows = await prisma.build.findMany({
    where: { patchId },
    orderBy: { kernelRelease: "asc" },
    omit: { log: true, signature: true, leaseUntil: true, result: true },
    include: { worker: { select: { name: true } } },
  });
  if (rows.length === 0) return [];
  const counts = await prisma.host.groupBy({
    by: ["kernelRelease"],
    where: { status: "active", kernelRelease: { in: rows.map((r) => r.kernelRelease) } },
    _count: { _all: true },
  });
  const hostCount = new Map(counts.map((c) => [c.kernelRelease, c._count._all]));
  return rows.map((r) => ({
    id: r.id,
    patchId: r.patchId,
    kernelRelease: r.kernelRelease,
    status: r.status,
    outcome: r.outcome,
    report: r.report as Build["report"],
    hostCount: hostCount.get(r.kernelRelease) ?? 0,
    error: r.error,
    attempts: r.attempts,
    builder: r.builder,
    worker: r.worker?.name ?? null,
    queuedAt: r.queuedAt.toISOString(),
    startedAt: r.startedAt?.toISOString() ?? null,
    finishedAt: r.finishedAt?.toISOString() ?? null,
    artifactSha256: r.artifactSha256,
    artifactSize: r.artifactSize,
    moduleName: r.moduleName,
  }));
}

export async function getBuildLog(id: string): Promise<{ id: string; status: Build["status"]; log: string }> {
  const b = await prisma.build.findUnique({ where: { id }, select: { id: true, status: true, log: true } });
  if (!b) throw new NotFoundError("build");
  return b;
}

/** Puts a failed build back in the queue (the same row: still one build per patch and release). */
export async function rebuild(opts: { actor: Actor; buildId: string }): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const b = await tx.build.findUnique({ where: { id: opts.buildId }, select: { id: true, status: true, patchId: true, kernelRelease: true, patch: { select: { title: true, withdrawnAt: true } } } });
    if (!b) throw new NotFoundError("build");
    if (b.patch.withdrawnAt) throw new ConflictError(`"${b.patch.title}" is withdrawn: it is not built any more`, "withdrawn");
    if (b.status !== BUILD_STATUS.failed) throw new ConflictError(`only failed builds can be rebuilt; this one is ${b.status}`, "not_failed");
    await tx.build.update({
      where: { id: b.id },
      data: { status: "queued", outcome: null, report: Prisma.DbNull, error: null, queuedAt: new Date(), startedAt: null, finishedAt: null, retryAt: null, log: "" },
    });
    await notify(tx, { type: "builds.changed", patchId: b.patchId, buildId: b.id });
    await appendAudit(tx, { actor: opts.actor, action: "build.rebuild_requested", target: { type: "build", id: b.id }, details: { patchId: b.patchId, kernelRelease: b.kernelRelease } });
  });
}

/** Whether a worker is alive: it did not stop, and its last heartbeat's horizon is still ahead. Pure. */
export function workerOnline(w: { aliveUntil: Date; stoppedAt: Date | null }, now: Date): boolean {
  return w.stoppedAt === null && w.aliveUntil.getTime() > now.getTime();
}

/** The processes that run builds, online ones first, then the most recently seen. */
export async function listBuildWorkers(opts: { limit?: number } = {}): Promise<BuildWorkerInfo[]> {
  // The database's clock decides, as it does for the heartbeat (no skew between machines).
  const [{ now }] = await prisma.$queryRaw<{ now: Date }[]>`select now()`;
  const rows = await prisma.buildWorker.findMany({ orderBy: { lastSeenAt: "desc" }, take: opts.limit ?? 200 });
  return rows
    .map((w) => ({
      id: w.id,
      name: w.name,
      kind: w.kind === "console" ? ("console" as const) : ("worker" as const),
      hostname: w.hostname,
      pid: w.pid,
      builder: w.builder,
      concurrency: w.concurrency,
      running: w.running,
      releases: w.releases,
      online: workerOnline(w, now),
      startedAt: w.startedAt.toISOString(),
      lastSeenAt: w.lastSeenAt.toISOString(),
      stoppedAt: w.stoppedAt?.toISOString() ?? null,
    }))
    .sort((a, b) => Number(b.online) - Number(a.online));
}
