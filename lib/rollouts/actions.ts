import "server-only";
import { RolloutStrategySchema, type RolloutSummary } from "@/lib/api/schemas";
import { createdBy, type Actor } from "@/lib/audit/actor";
import { appendAudit } from "@/lib/audit/append";
import { livepatchModuleName } from "@/lib/livepatch/module-name";
import { prisma, type Db, type Tx } from "@/lib/db/client";
import { patchNamer, stacksOf } from "@/lib/builds/stacks";
import { revertBlocker } from "@/lib/builds/stacking";
import { ConflictError, NotFoundError } from "@/lib/errors";
import type { Prisma } from "@/lib/generated/prisma/client";
import { notify } from "@/lib/db/bus";
import { planWaves, type PlannedHost } from "./plan";
import { getRolloutSummary, storedStrategy } from "./query";
import { ACTIONS, decideAction, DONE_AS, type OperatorAction } from "./decide";
import { insertRolloutHosts } from "./start";
import { failuresOf, HOST, IN_FLIGHT_HOST_STATES, MAY_BE_LIVE_HOST_STATES, WAITING_HOST_STATES, type StateCounts } from "./states";
import { liveModules, sqlList, sqlName } from "@/lib/db/sql-names";

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


type ActionOpts = { actor: Actor; id: string; reason?: string };

/** One operator action, in one transaction under the rollout's lock: decideAction says what it does. */
async function act(opts: ActionOpts, action: OperatorAction): Promise<RolloutSummary> {
  await prisma.$transaction(async (tx) => {
    const r = await lock(tx, opts.id);
    const { data, details } = await actLocked(tx, r, action, opts);
    await tx.rollout.update({ where: { id: r.id }, data });
    await notify(tx, { type: "rollouts.changed", id: r.id });
    await appendAudit(tx, {
      actor: opts.actor,
      action: `rollout.${DONE_AS[action]}`,
      target: { type: "rollout", id: r.id },
      details: { number: r.number, ...(opts.reason ? { reason: opts.reason } : {}), ...details },
    });
  });
  return getRolloutSummary(opts.id);
}

async function actLocked(tx: Tx, r: Locked, action: OperatorAction, opts: ActionOpts): Promise<{ data: Prisma.RolloutUpdateInput; details: Record<string, unknown> }> {
  const failures = action === "resume" ? failuresOf(await counts(tx, r.id)) : 0;
  // In-flight hosts finish and report after an abort; skipping the waiting ones does not change them.
  const inFlight = action === "abort" ? await countIn(tx, r.id, IN_FLIGHT_HOST_STATES) : 0;
  const d = decideAction({ action, status: r.status, pauseKind: r.pauseKind, failures, inFlight });
  if (!d.ok) throw new ConflictError(`rollout ${r.number} ${d.reason}`, "invalid_state");
  const { finished, pauseReason, ...change } = d.change;
  const data: Prisma.RolloutUpdateInput = {
    ...change,
    pauseReason: pauseReason === "operator" ? `paused by ${opts.actor.name}${opts.reason ? `: ${opts.reason}` : ""}` : null,
    ...(finished ? { finishedAt: new Date() } : {}),
  };
  if (action === "resume") return { data, details: { after: r.pauseKind, ...(change.failuresAccepted !== undefined ? { failuresAccepted: change.failuresAccepted } : {}) } };
  if (action !== "abort") return { data, details: {} };
  const skipped = await tx.$executeRaw`
    update "RolloutHost" set state = ${sqlName(HOST.skipped)}, error = ${`rollout aborted by ${opts.actor.name}${opts.reason ? `: ${opts.reason}` : ""} before this host's turn`},
      "finishedAt" = now(), "updatedAt" = now()
    where "rolloutId" = ${r.id}::uuid and state in ${sqlList(WAITING_HOST_STATES)}`;
  return { data, details: { skipped, inFlight } };
}

async function countIn(tx: Tx, id: string, states: readonly string[]): Promise<number> {
  const [{ n }] = await tx.$queryRaw<{ n: number }[]>`
    select count(*)::int as n from "RolloutHost" where "rolloutId" = ${id}::uuid and state in ${sqlList(states)}`;
  return n;
}

export const pauseRollout = (opts: ActionOpts): Promise<RolloutSummary> => act(opts, "pause");

/** Resumes a paused rollout. After a failure pause, the failures so far are accepted: the budget counts new ones. */
export const resumeRollout = (opts: ActionOpts): Promise<RolloutSummary> => act(opts, "resume");

export const approveRollout = (opts: ActionOpts): Promise<RolloutSummary> => act(opts, "approve");

/** Stops dispatching: hosts not yet started are skipped now; hosts in flight finish and report. */
export const abortRollout = (opts: ActionOpts): Promise<RolloutSummary> => act(opts, "abort");

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
      if ((ACTIONS.abort.from as readonly string[]).includes(r.status)) {
        const { data, details } = await actLocked(tx, r, "abort", { actor, id: r.id, reason: "rolling back" });
        await tx.rollout.update({ where: { id: r.id }, data });
        aborted = details;
      }
      const moduleName = livepatchModuleName(r.patchId);
      // Hosts this rollout applied the patch to, may still apply it to, or where it is live.
      const hosts = await tx.$queryRaw<{ hostId: string; hostname: string; kernelRelease: string; online: boolean; live: string[] }[]>`
        select rh."hostId"::text, h.hostname, h."kernelRelease", h.online, ${liveModules()} as live from "RolloutHost" rh join "Host" h on h.id = rh."hostId"
        where rh."rolloutId" = ${r.id}::uuid and h.status = 'active'
          and (rh.state in ${sqlList(MAY_BE_LIVE_HOST_STATES)}
               or h.livepatches @> jsonb_build_array(jsonb_build_object('name', ${moduleName}::text)))
        order by h.hostname`;
      if (hosts.length === 0) throw new ConflictError(`nothing to roll back: rollout ${r.number} applied the patch to no host`, "nothing_to_do");
      const base = storedStrategy(r.strategy);
      const strategy = RolloutStrategySchema.parse({ ...base, pauseAfterCanary: false });
      // A host running a patch built on top of this one keeps it until that one is taken out first.
      const blocked = await dependentsLive(tx, r.patchId, hosts);
      const waves = planWaves(hosts.filter((h) => !blocked.has(h.hostId)).map((h) => ({ ...h, ready: true })), strategy);
      if (blocked.size === hosts.length) throw new ConflictError(`nothing to roll back now: on every host of rollout ${r.number} a patch built on top of this one is live (${[...new Set(blocked.values())].join("; ")})`, "blocked_by_stacking");
      const planned: PlannedHost[] = [
        ...waves.flatMap((w, i) => w.map((h) => ({ hostId: h.hostId, hostname: h.hostname, kernelRelease: h.kernelRelease, wave: i, state: HOST.pending, buildId: null, error: null }))),
        ...hosts.filter((h) => blocked.has(h.hostId)).map((h) => ({ hostId: h.hostId, hostname: h.hostname, kernelRelease: h.kernelRelease, wave: null, state: HOST.skipped, buildId: null, error: blocked.get(h.hostId)! })),
      ];
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

/** Hosts where a patch built on top of `patchId` is live, with why it stays (lib/builds/stacking.ts). */
async function dependentsLive(db: Db, patchId: string, hosts: readonly { hostId: string; kernelRelease: string; live: string[] }[]): Promise<Map<string, string>> {
  const stacks = await stacksOf(db, [...new Set(hosts.map((h) => h.kernelRelease))]);
  const name = await patchNamer(db, stacks);
  const out = new Map<string, string>();
  for (const h of hosts) {
    const why = revertBlocker({ patchId, others: stacks.get(h.kernelRelease) ?? [], live: new Set(h.live), name });
    if (why) out.set(h.hostId, why);
  }
  return out;
}
