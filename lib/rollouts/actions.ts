import "server-only";
import { RolloutStrategySchema, type RolloutSummary } from "@/lib/api/schemas";
import { createdBy, type Actor } from "@/lib/audit/actor";
import { appendAudit } from "@/lib/audit/append";
import { livepatchModuleName } from "@/lib/builds/builders/module-name";
import { prisma, type Tx } from "@/lib/db/client";
import { ConflictError, NotFoundError } from "@/lib/errors";
import type { Prisma } from "@/lib/generated/prisma/client";
import { notify } from "@/lib/realtime/bus";
import { planWaves, type PlannedHost } from "./plan";
import { failuresOf, getRolloutSummary, storedStrategy, type StateCounts } from "./query";
import { insertRolloutHosts } from "./start";
import { HOST, IN_FLIGHT_HOST_STATES, MAY_BE_LIVE_HOST_STATES, WAITING_HOST_STATES } from "./states";
import { sqlList, sqlName } from "./states-sql";

type Locked = { id: string; number: number; kind: string; status: string; pauseKind: string | null; patchId: string; groupId: string | null; groupName: string; strategy: unknown };

async function lock(tx: Tx, id: string): Promise<Locked> {
  // Waits for an engine step in progress on this rollout, then holds it off until this commits.
  const [r] = await tx.$queryRaw<Locked[]>`
    select id::text, number, kind::text, status::text, "pauseKind", "patchId"::text, "groupId"::text, "groupName", strategy
    from "Rollout" where id = ${id}::uuid for update`;
  if (!r) throw new NotFoundError("rollout");
  return r;
}

async function counts(tx: Tx, id: string): Promise<StateCounts> {
  const rows = await tx.$queryRaw<{ state: keyof StateCounts; n: number }[]>`
    select state::text, count(*)::int as n from "RolloutHost" where "rolloutId" = ${id}::uuid and wave is not null group by 1`;
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}


async function act(opts: { actor: Actor; id: string; reason?: string }, action: "pause" | "resume" | "approve" | "abort", change: (tx: Tx, r: Locked) => Promise<Prisma.RolloutUpdateInput & { details?: Record<string, unknown> }>): Promise<RolloutSummary> {
  await prisma.$transaction(async (tx) => {
    const r = await lock(tx, opts.id);
    const { details, ...data } = await change(tx, r);
    await tx.rollout.update({ where: { id: r.id }, data });
    await notify(tx, { type: "rollouts.changed", id: r.id });
    await appendAudit(tx, {
      actor: opts.actor,
      action: `rollout.${action === "pause" ? "paused" : action === "resume" ? "resumed" : action === "approve" ? "approved" : "aborted"}`,
      target: { type: "rollout", id: r.id },
      details: { number: r.number, ...(opts.reason ? { reason: opts.reason } : {}), ...details },
    });
  });
  return getRolloutSummary(opts.id);
}

const cannot = (r: Locked, what: string) => new ConflictError(`rollout ${r.number} is ${r.status}; it cannot be ${what}`, "invalid_state");

export function pauseRollout(opts: { actor: Actor; id: string; reason?: string }): Promise<RolloutSummary> {
  return act(opts, "pause", async (_tx, r) => {
    if (r.status !== "running") throw cannot(r, "paused");
    return { status: "paused", pauseKind: "operator", pauseReason: `paused by ${opts.actor.name}${opts.reason ? `: ${opts.reason}` : ""}` };
  });
}

/** Resumes a paused rollout. After a failure pause, the failures so far are accepted: the budget counts new ones. */
export function resumeRollout(opts: { actor: Actor; id: string; reason?: string }): Promise<RolloutSummary> {
  return act(opts, "resume", async (tx, r) => {
    if (r.status !== "paused") throw cannot(r, "resumed");
    const failures = failuresOf(await counts(tx, r.id));
    return {
      status: "running",
      pauseKind: null,
      pauseReason: null,
      ...(r.pauseKind === "failures" ? { failuresAccepted: failures } : {}),
      ...(r.pauseKind === "approval" ? { canaryApproved: true } : {}),
      details: { after: r.pauseKind, ...(r.pauseKind === "failures" ? { failuresAccepted: failures } : {}) },
    };
  });
}

export function approveRollout(opts: { actor: Actor; id: string; reason?: string }): Promise<RolloutSummary> {
  return act(opts, "approve", async (_tx, r) => {
    if (r.status !== "paused" || r.pauseKind !== "approval") {
      throw new ConflictError(`rollout ${r.number} is not waiting for approval (it is ${r.status})`, "invalid_state");
    }
    return { status: "running", pauseKind: null, pauseReason: null, canaryApproved: true };
  });
}

/** Stops dispatching: hosts not yet started are skipped now; hosts in flight finish and report. */
export function abortRollout(opts: { actor: Actor; id: string; reason?: string }): Promise<RolloutSummary> {
  return act(opts, "abort", async (tx, r) => abortLocked(tx, r, opts.actor, opts.reason));
}

async function abortLocked(tx: Tx, r: Locked, actor: Actor, reason?: string): Promise<Prisma.RolloutUpdateInput & { details?: Record<string, unknown> }> {
  if (!["running", "paused"].includes(r.status)) throw cannot(r, "aborted");
  const skipped = await tx.$executeRaw`
    update "RolloutHost" set state = ${sqlName(HOST.skipped)}, error = ${`rollout aborted by ${actor.name}${reason ? `: ${reason}` : ""} before this host's turn`},
      "finishedAt" = now(), "updatedAt" = now()
    where "rolloutId" = ${r.id}::uuid and state in ${sqlList(WAITING_HOST_STATES)}`;
  const [{ n }] = await tx.$queryRaw<{ n: number }[]>`
    select count(*)::int as n from "RolloutHost" where "rolloutId" = ${r.id}::uuid and state in ${sqlList(IN_FLIGHT_HOST_STATES)}`;
  return {
    status: n > 0 ? "aborting" : "aborted",
    pauseKind: null,
    pauseReason: null,
    nextWaveAt: null,
    ...(n > 0 ? {} : { finishedAt: new Date() }),
    details: { skipped, inFlight: n },
  };
}

/**
 * Takes the patch back from every host where this rollout applied it (or may still apply it: a
 * host in flight is reverted once it finishes), as a rollout of its own with a result per host.
 * A running rollout is aborted first. One rollback per rollout.
 */
export async function rollbackRollout(opts: { actor: Actor; id: string; reason?: string }): Promise<RolloutSummary> {
  const { actor } = opts;
  const newId = await prisma.$transaction(
    async (tx) => {
      const r = await lock(tx, opts.id);
      if (r.kind !== "apply") throw new ConflictError(`rollout ${r.number} is itself a rollback`, "invalid_state");
      const existing = await tx.rollout.findUnique({ where: { rollbackOfId: r.id }, select: { number: true } });
      if (existing) throw new ConflictError(`rollout ${r.number} was already rolled back by rollout ${existing.number}`, "already_rolled_back");
      let aborted: Record<string, unknown> | null = null;
      if (r.status === "running" || r.status === "paused") {
        const { details, ...data } = await abortLocked(tx, r, actor, "rolling back");
        await tx.rollout.update({ where: { id: r.id }, data });
        aborted = details ?? {};
      }
      const moduleName = livepatchModuleName(r.patchId);
      // Hosts this rollout applied the patch to, may still apply it to, or where it is live.
      const hosts = await tx.$queryRaw<{ hostId: string; hostname: string; kernelRelease: string; online: boolean }[]>`
        select rh."hostId"::text, h.hostname, h."kernelRelease", h.online from "RolloutHost" rh join "Host" h on h.id = rh."hostId"
        where rh."rolloutId" = ${r.id}::uuid and h.status = 'active'
          and (rh.state in ${sqlList(MAY_BE_LIVE_HOST_STATES)}
               or h.livepatches @> jsonb_build_array(jsonb_build_object('name', ${moduleName}::text)))
        order by h.hostname`;
      if (hosts.length === 0) throw new ConflictError(`nothing to roll back: rollout ${r.number} applied the patch to no host`, "nothing_to_do");
      const base = storedStrategy(r.strategy);
      const strategy = RolloutStrategySchema.parse({ ...base, pauseAfterCanary: false });
      const waves = planWaves(hosts.map((h) => ({ ...h, ready: true })), strategy);
      const planned: PlannedHost[] = waves.flatMap((w, i) =>
        w.map((h) => ({ hostId: h.hostId, hostname: h.hostname, kernelRelease: h.kernelRelease, wave: i, state: HOST.pending, buildId: null, error: null })),
      );
      const rb = await tx.rollout.create({
        data: {
          kind: "rollback",
          patchId: r.patchId,
          groupId: r.groupId,
          groupName: r.groupName,
          rollbackOfId: r.id,
          strategy: strategy as Prisma.InputJsonObject,
          waveCount: waves.length,
          hostCount: planned.length,
          ...createdBy(actor),
        },
        select: { id: true, number: true },
      });
      await insertRolloutHosts(tx, rb.id, planned);
      await notify(tx, { type: "rollouts.changed", id: rb.id });
      await notify(tx, { type: "rollouts.changed", id: r.id });
      await appendAudit(tx, {
        actor,
        action: "rollout.rolled_back",
        target: { type: "rollout", id: r.id },
        details: { number: r.number, rollbackId: rb.id, rollbackNumber: rb.number, hosts: planned.length, ...(opts.reason ? { reason: opts.reason } : {}), ...(aborted ? { aborted } : {}) },
      });
      return rb.id;
    },
    { timeout: 60_000 },
  );
  return getRolloutSummary(newId);
}
