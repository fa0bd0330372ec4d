import "server-only";
import { Prisma } from "@/lib/generated/prisma/client";
import { prisma } from "@/lib/db/client";
import { publish } from "@/lib/db/bus";
import type { BuildReport, FailureReason } from "./types";
import { BUILD_STATUS } from "@/lib/api/schemas";
import { sqlList } from "@/lib/db/sql-names";
import { stagedBeforeOnSameFile } from "./stacks";

/** A build in one of these has no outcome yet. */
const UNFINISHED_BUILD_STATUSES = [BUILD_STATUS.queued, BUILD_STATUS.building];

// The build queue is the Build table itself: a queued row is a job. Workers (build workers on any
// machine, or a console's own) claim one with FOR UPDATE SKIP LOCKED and hold it under a lease
// they renew; a lapsed lease means the worker died and the build is claimed again. Every write a
// worker makes after its claim is fenced by (workerId, attempts): a worker that lost its claim
// (it stalled, its lease lapsed, another took over) can change nothing. A worker's last write is
// its result (`result`), which a console records (lib/builds/recorder.ts). The unique
// constraint on (patchId, kernelRelease) keeps one row per pair whatever happens here.

export interface Claim {
  buildId: string;
  patchId: string;
  kernelRelease: string;
  /** This claim's attempt number: with the worker's id, the fence on every later write. */
  attempt: number;
}

/** What a worker leaves for a console to record. */
export type BuildResult =
  | { status: typeof BUILD_STATUS.succeeded; artifactSha256: string; artifactSize: number; moduleName: string; report: BuildReport | null; worker: string }
  | { status: typeof BUILD_STATUS.failed; outcome: FailureReason; error: string; /** the builder that refused the patch (not merely failed) */ refusedBy?: string; worker: string };

/**
 * Claims the next build for a worker, or null when none waits. Releases the worker has prepared
 * come first (its cache makes them cheap); then releases no other live worker has prepared (someone
 * must prepare them); last, releases another worker has prepared, so no build waits while a worker
 * is idle. Within each, oldest first.
 */
export async function claimNextBuild(opts: { workerId: string; workerName: string; builder: string; leaseMs: number; prepared: string[] }): Promise<Claim | null> {
  const leaseSec = opts.leaseMs / 1000;
  const [claim] = await prisma.$queryRaw<{ buildId: string; patchId: string; kernelRelease: string; attempt: number }[]>`
    with next as (
      select b.id from "Build" b
      where (b.status = 'queued' or (b.status = 'building' and b."leaseUntil" < now()))
        and (b."retryAt" is null or b."retryAt" <= now())
        -- A build goes on top of the earlier patches of its files built for its release: it waits for
        -- their builds. From the release's unfinished builds (few, indexed), not from all patches.
        and not exists (select 1 from "Build" eb join "Patch" e on e.id = eb."patchId" and e."withdrawnAt" is null
          join "Patch" p on p.id = b."patchId"
          where eb."kernelRelease" = b."kernelRelease" and eb.status in ${sqlList(UNFINISHED_BUILD_STATUSES)} and eb.id <> b.id
            and ${stagedBeforeOnSameFile("e", "p")})
      order by b."kernelRelease" = any(${opts.prepared}::text[]) desc,
        exists (select 1 from "BuildWorker" w where w.id <> ${opts.workerId}::uuid and w."stoppedAt" is null
                and w."aliveUntil" > now() and b."kernelRelease" = any(w.releases)),
        b."queuedAt", b.id
      limit 1
      for update of b skip locked
    )
    update "Build" b set status = 'building', "leaseUntil" = now() + make_interval(secs => ${leaseSec}),
      attempts = b.attempts + 1, "startedAt" = now(), builder = ${opts.builder}, error = null, "retryAt" = null, result = null,
      "workerId" = ${opts.workerId}::uuid,
      log = case when b.status = 'building'
        then b.log || E'\n--- ' || coalesce((select 'build worker ' || w.name from "BuildWorker" w where w.id = b."workerId"), 'the worker building this')
          || E' stopped answering (its lease lapsed); building again on ' || ${opts.workerName} || E' ---\n'
        else b.log end
    from next where b.id = next.id
    returning b.id::text as "buildId", b."patchId"::text as "patchId", b."kernelRelease", b.attempts as attempt`;
  if (!claim) return null;
  await publish({ type: "builds.changed", patchId: claim.patchId, buildId: claim.buildId });
  return claim;
}

const fence = (c: Claim, workerId: string) => Prisma.sql`id = ${c.buildId}::uuid and "workerId" = ${workerId}::uuid and attempts = ${c.attempt}`;

/** Extends the lease; false when the claim is no longer this worker's. */
export async function renewLease(c: Claim, workerId: string, leaseMs: number): Promise<boolean> {
  const n = await prisma.$executeRaw`
    update "Build" set "leaseUntil" = now() + make_interval(secs => ${leaseMs / 1000})
    where ${fence(c, workerId)} and status = 'building' and result is null`;
  return n === 1;
}

/** Appends to the build's log (streamed to the patch page); nothing when the claim was lost. */
export async function appendBuildLog(c: Claim, workerId: string, chunk: string): Promise<void> {
  const n = await prisma.$executeRaw`update "Build" set log = log || ${chunk} where ${fence(c, workerId)}`;
  if (n === 1) await publish({ type: "builds.changed", patchId: c.patchId, buildId: c.buildId, log: true });
}

/**
 * The worker is done: its result waits for a console to record it. The lease ends here, so the
 * build is not claimed again, and the bus wakes the consoles. False when the claim was lost.
 */
export async function submitResult(c: Claim, workerId: string, result: BuildResult): Promise<boolean> {
  const n = await prisma.$executeRaw`
    update "Build" set result = ${JSON.stringify(result)}::jsonb, "leaseUntil" = null
    where ${fence(c, workerId)} and status = 'building' and result is null`;
  if (n === 1) await publish({ type: "builds.changed", patchId: c.patchId, buildId: c.buildId });
  return n === 1;
}

/**
 * Puts a claimed build back in the queue (the worker is stopping, or something other than the
 * build failed: the database, the disk, a missing tool), for any worker to take, not before
 * `retryAfterMs`. False when the claim was lost.
 */
export async function handBack(c: Claim, workerId: string, opts: { retryAfterMs?: number } = {}): Promise<boolean> {
  const n = await prisma.$executeRaw`
    update "Build" set status = 'queued', "leaseUntil" = null,
      "retryAt" = ${opts.retryAfterMs ? Prisma.sql`now() + make_interval(secs => ${opts.retryAfterMs / 1000})` : Prisma.sql`null`}
    where ${fence(c, workerId)} and status = 'building' and result is null`;
  if (n === 1) await publish({ type: "builds.changed", patchId: c.patchId, buildId: c.buildId });
  return n === 1;
}

/** After an infrastructure error: 5 s, doubling with each attempt, at most 5 minutes. */
export function retryDelayMs(attempt: number): number {
  return Math.min(300_000, 5_000 * 2 ** Math.max(0, Math.min(attempt - 1, 16)));
}
