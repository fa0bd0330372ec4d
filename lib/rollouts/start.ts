import "server-only";
import { RolloutStrategySchema, type RolloutCreate, type RolloutPreview, type RolloutStrategy, type RolloutSummary } from "@/lib/api/schemas";
import { createdBy, type Actor } from "@/lib/audit/actor";
import { appendAudit } from "@/lib/audit/append";
import { ensureBuilds } from "@/lib/builds/plan";
import { prisma, type Tx } from "@/lib/db/client";
import type { Prisma } from "@/lib/generated/prisma/client";
import { notify } from "@/lib/db/bus";
import { assertSomethingToDo, planRollout, type PlannedHost, type RolloutTarget } from "./plan";
import { getRolloutSummary } from "./query";
import { HOST } from "./states";
import { sqlName } from "@/lib/db/sql-names";

// Serialises rollout starts of the same patch, so two operators clicking at once cannot both
// take the same host (the second sees the first's hosts as busy).
const START_LOCK = 4_242_100;

const defaults = (s?: RolloutStrategy): RolloutStrategy => s ?? RolloutStrategySchema.parse({});

export async function previewRollout(opts: { patchId: string; groupId: string; strategy?: RolloutStrategy }): Promise<RolloutPreview> {
  const plan = await planRollout({ db: prisma, patchId: opts.patchId, target: { groupId: opts.groupId }, strategy: defaults(opts.strategy) });
  return plan.preview;
}

/** Inserts a rollout's host rows in one statement (thousands of hosts). */
export async function insertRolloutHosts(tx: Tx, rolloutId: string, hosts: PlannedHost[]): Promise<void> {
  if (hosts.length === 0) return;
  await tx.$executeRaw`
    insert into "RolloutHost" (id, "rolloutId", "hostId", hostname, "kernelRelease", wave, state, "buildId", error, "finishedAt")
    select gen_random_uuid(), ${rolloutId}::uuid, u."hostId", u.hostname, u.release, u.wave, u.state::"RolloutHostState", u."buildId", u.error,
      case when u.state = ${sqlName(HOST.skipped)} then now() end
    from unnest(${hosts.map((h) => h.hostId)}::uuid[], ${hosts.map((h) => h.hostname)}::text[], ${hosts.map((h) => h.kernelRelease)}::text[],
      ${hosts.map((h) => h.wave)}::int[], ${hosts.map((h) => h.state)}::text[], ${hosts.map((h) => h.buildId)}::uuid[], ${hosts.map((h) => h.error)}::text[])
      as u("hostId", hostname, release, wave, state, "buildId", error)`;
}

/**
 * Starts a rollout: fixes its hosts and waves, queues the builds its hosts still lack, and hands
 * it to the engine. One transaction: either all of it exists, or none.
 */
export async function startRollout(opts: { actor: Actor; input: RolloutCreate }): Promise<RolloutSummary> {
  const { input } = opts;
  const id = await startPlanned({ actor: opts.actor, patchId: input.patchId, target: { groupId: input.groupId }, strategy: defaults(input.strategy) });
  return getRolloutSummary(id);
}

/** The start itself, for a group or for named hosts (lib/rollouts/reconverge.ts); returns the rollout's id. */
export async function startPlanned(opts: { actor: Actor; patchId: string; target: RolloutTarget; strategy: RolloutStrategy; reason?: string }): Promise<string> {
  const { actor, patchId, strategy } = opts;
  return prisma.$transaction(
    async (tx) => {
      await tx.$executeRaw`select pg_advisory_xact_lock(${START_LOCK}, hashtext(${patchId}))`;
      const plan = await planRollout({ db: tx, patchId, target: opts.target, strategy });
      assertSomethingToDo(plan);
      const queued = plan.missingBuilds.length ? await ensureBuilds({ patchId, kernelReleases: plan.missingBuilds, tx }) : [];
      const buildIds = new Map(queued.map((b) => [b.kernelRelease, b.id]));
      const hosts = plan.hosts.map((h) => (h.buildId || h.state !== HOST.waiting_for_build ? h : { ...h, buildId: buildIds.get(h.kernelRelease) ?? null }));
      const groupId = "groupId" in opts.target ? opts.target.groupId : null;
      const rollout = await tx.rollout.create({
        data: {
          kind: "apply",
          patchId,
          groupId,
          groupName: plan.preview.group.name,
          strategy: strategy as Prisma.InputJsonObject,
          waveCount: plan.preview.waves.length,
          hostCount: plan.preview.toPatch,
          ...createdBy(actor),
        },
        select: { id: true, number: true },
      });
      await insertRolloutHosts(tx, rollout.id, hosts);
      await notify(tx, { type: "rollouts.changed", id: rollout.id });
      await appendAudit(tx, {
        actor,
        action: "rollout.started",
        target: { type: "rollout", id: rollout.id },
        details: {
          number: rollout.number,
          patchId,
          patch: plan.preview.patch.title,
          cves: plan.preview.patch.cves,
          groupId,
          group: plan.preview.group.name,
          hosts: plan.preview.toPatch,
          skipped: plan.preview.skipped,
          waves: plan.preview.waves,
          buildsQueued: plan.missingBuilds,
          strategy,
          ...(opts.reason ? { reason: opts.reason } : {}),
        },
      });
      return rollout.id;
    },
    { timeout: 60_000 },
  );
}
