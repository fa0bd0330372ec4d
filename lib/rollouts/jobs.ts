import "server-only";
import { FINAL_JOB_PHASES, JobUpdateSchema, type Job, type JobUpdate } from "@/agent/protocol";
import type { RolloutHostState } from "@/lib/api/schemas";
import { livepatchModuleName } from "@/lib/livepatch/module-name";
import type { z } from "zod";
import { prisma, type Tx } from "@/lib/db/client";
import { Prisma } from "@/lib/generated/prisma/client";
import { notify } from "@/lib/db/bus";
import { recordHostResults } from "./engine";
import { FINAL_HOST_STATES, HOST, IN_FLIGHT_HOST_STATES, IN_FLIGHT_RANK, isIn, PHASE, PHASE_RANK, stateOfPhase } from "./states";
import { sqlList, sqlName, sqlRank } from "@/lib/db/sql-names";
import { recordDesired } from "./desired";
import { stacksOf } from "@/lib/builds/stacks";
import { buildOf, jobStacking, stackingOf, type StackedBuild } from "@/lib/builds/stacking";

type JobRow = { jobId: string; hostId: string; kind: "apply" | "rollback"; patchId: string; buildId: string | null; kernelRelease: string; deadlineAt: Date | null };

/** A job's stacking lists, once per (kind, patch, release): a wave sends the same ones to many hosts. */
function stackingLists(stacks: Map<string, StackedBuild[]>) {
  const memo = new Map<string, ReturnType<typeof jobStacking>>();
  return (kind: Job["kind"], patchId: string, release: string) => {
    const key = `${kind}/${patchId}/${release}`;
    let lists = memo.get(key);
    if (!lists) {
      const builds = stacks.get(release) ?? [];
      lists = jobStacking(kind, stackingOf(buildOf(builds, patchId), builds));
      memo.set(key, lists);
    }
    return lists;
  };
}

function toJob(r: JobRow, lists: ReturnType<typeof stackingLists>, now = Date.now()): Job {
  const kind = r.kind === "rollback" ? "revert" : "apply";
  return {
    ...lists(kind, r.patchId, r.kernelRelease),
    jobId: r.jobId,
    kind,
    patchId: r.patchId,
    ...(r.kind === "apply" && r.buildId ? { buildId: r.buildId } : {}),
    moduleName: livepatchModuleName(r.patchId),
    kernelRelease: r.kernelRelease,
    // The agent must be done before the console gives up on it.
    timeoutSec: Math.max(1, Math.ceil(((r.deadlineAt?.getTime() ?? now + 120_000) - now) / 1000)),
  };
}

const jobColumns = Prisma.sql`rh.id::text as "jobId", rh."hostId"::text, r.kind::text, r."patchId"::text, rh."buildId"::text, rh."kernelRelease", rh."deadlineAt"`;

/** Jobs dispatched by one engine step (the `rollout.dispatched` event), to send to their hosts. */
export async function dispatchedJobs(opts: { rolloutId: string; at: string }): Promise<{ hostId: string; job: Job }[]> {
  const rows = await prisma.$queryRaw<JobRow[]>`
    select ${jobColumns} from "RolloutHost" rh join "Rollout" r on r.id = rh."rolloutId"
    where rh."rolloutId" = ${opts.rolloutId}::uuid and rh."dispatchedAt" = ${new Date(opts.at)} and rh.state = ${sqlName(HOST.dispatched)}`;
  const lists = stackingLists(await stacksOf(prisma, rows.map((r) => r.kernelRelease)));
  return rows.map((r) => ({ hostId: r.hostId, job: toJob(r, lists) }));
}

/** Every unfinished job of a host, sent again when it connects: the agent answers for the ones it knows. */
export async function openJobsForHost(hostId: string): Promise<Job[]> {
  const rows = await prisma.$queryRaw<JobRow[]>`
    select ${jobColumns} from "RolloutHost" rh join "Rollout" r on r.id = rh."rolloutId"
    where rh."hostId" = ${hostId}::uuid and rh.state in ${sqlList(IN_FLIGHT_HOST_STATES)}
    order by rh."dispatchedAt"`;
  const lists = stackingLists(await stacksOf(prisma, rows.map((r) => r.kernelRelease)));
  return rows.map((r) => toJob(r, lists));
}

/** Of several updates of one job by one host, the one furthest along (the latest of equals). */
export function latestPerJob(batch: { hostId: string; update: JobUpdate }[]): { hostId: string; update: JobUpdate }[] {
  const best = new Map<string, { hostId: string; update: JobUpdate }>();
  for (const item of batch) {
    // Keyed by host too: another host naming this job id must not shadow its own host's update.
    const key = `${item.hostId}/${item.update.jobId}`;
    const prev = best.get(key);
    if (!prev || PHASE_RANK[item.update.phase] >= PHASE_RANK[prev.update.phase]) best.set(key, item);
  }
  return [...best.values()];
}

type Updated = { rolloutId: string; hostId: string; state: RolloutHostState; error: string | null; number: number; kind: string; patchTitle: string; patchId: string; kernelRelease: string };

/**
 * Records agents' job updates, many in one statement, in one transaction with the results' host
 * events: all or nothing, so a caller may split a refused batch and write its parts again
 * (lib/agents/job-relay.ts). An update moves a host's state forward only: a late or repeated
 * update (reconnect, resend) never moves it back, and a host already in a final state (e.g.
 * timed out) keeps it. An agent can only update its own host's jobs.
 */
export async function applyJobUpdates(batch: { hostId: string; update: JobUpdate }[]): Promise<{ updated: number; finished: number }> {
  const items = latestPerJob(batch).map((b) => ({ hostId: b.hostId, u: JobUpdateSchema.parse(b.update) }));
  if (items.length === 0) return { updated: 0, finished: 0 };
  // Thousands of hosts report at once after a wave: wait for a connection rather than fail.
  return prisma.$transaction((tx) => applyParsed(tx, items), { maxWait: 10_000, timeout: 30_000 });
}

async function applyParsed(tx: Tx, items: { hostId: string; u: z.output<typeof JobUpdateSchema> }[]): Promise<{ updated: number; finished: number }> {
  const final = (p: string) => (FINAL_JOB_PHASES as readonly string[]).includes(p);
  const rows = await tx.$queryRaw<Updated[]>`
    with u as (
      select * from unnest(
        ${items.map((i) => i.u.jobId)}::uuid[], ${items.map((i) => i.hostId)}::uuid[], ${items.map((i) => i.u.phase)}::text[],
        ${items.map((i) => i.u.error ?? null)}::text[], ${items.map((i) => (i.u.log.length ? i.u.log.join("\n") : null))}::text[],
        ${items.map((i) => (i.u.blockingTasks ? JSON.stringify(i.u.blockingTasks) : null))}::jsonb[],
        ${items.map((i) => (final(i.u.phase) ? new Date(i.u.finishedAt ?? Date.now()) : null))}::timestamptz[]
      ) as u(id, "hostId", phase, error, log, blocking, finished)
    )
    update "RolloutHost" rh set
      state = (case
        when u.phase = ${sqlName(PHASE.accepted)} then rh.state::text
        when u.phase = ${sqlName(PHASE.succeeded)} and r.kind = 'rollback' then ${sqlName(stateOfPhase(PHASE.succeeded, "rollback") as string)}
        else u.phase end)::"RolloutHostState",
      error = case when u.phase = ${sqlName(PHASE.failed)} then coalesce(u.error, 'the agent reported a failure without a reason') else rh.error end,
      log = coalesce(u.log, rh.log),
      "blockingTasks" = coalesce(u.blocking, rh."blockingTasks"),
      -- The console's clock, not the agent's: a host's clock may be off (VMs, no NTP), durations must not be.
      "finishedAt" = case when u.finished is not null then now() else rh."finishedAt" end,
      "deadlineAt" = case when u.finished is not null then null else rh."deadlineAt" end,
      "updatedAt" = now()
    from u, "Rollout" r, "Patch" p
    where rh.id = u.id and rh."hostId" = u."hostId" and r.id = rh."rolloutId" and p.id = r."patchId"
      and rh.state in ${sqlList(IN_FLIGHT_HOST_STATES)}
      and ${sqlRank(PHASE_RANK, Prisma.sql`u.phase`)} >= ${sqlRank(IN_FLIGHT_RANK, Prisma.sql`rh.state::text`)}
    returning rh."rolloutId"::text, rh."hostId"::text, rh.state::text, rh.error, r.number, r.kind::text, p.title as "patchTitle",
      r."patchId"::text, rh."kernelRelease"`;
  const finished = rows.filter((r) => isIn(FINAL_HOST_STATES, r.state));
  // What each host should now have live moves with its results, in the same transaction.
  await recordDesired(tx, finished);
  const byRollout = new Map<string, Updated[]>();
  for (const r of rows) byRollout.set(r.rolloutId, [...(byRollout.get(r.rolloutId) ?? []), r]);
  for (const [rolloutId, list] of byRollout) {
    const done = list.filter((r) => finished.includes(r));
    if (done.length) await recordHostResults(tx, { id: rolloutId, number: done[0].number, kind: done[0].kind, patchTitle: done[0].patchTitle }, done);
    await notify(tx, { type: "rollouts.changed", id: rolloutId });
  }
  return { updated: rows.length, finished: finished.length };
}
