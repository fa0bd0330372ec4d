import "server-only";
import type { BuildOutcome, RolloutHostState } from "@/lib/api/schemas";
import { skipReasonOf } from "@/lib/builds/outcomes";
import { SYSTEM } from "@/lib/audit/actor";
import { appendAuditMany, type AuditInput } from "@/lib/audit/append";
import { prisma, type Db } from "@/lib/db/client";
import { log } from "@/lib/log";
import { notify } from "@/lib/db/bus";
import { BuildStatus } from "@/lib/generated/prisma/enums";
import { storedStrategy } from "./query";
import { decideStep, pauseReason, type StepRollout, type WaveCount } from "./decide";
import { ACTIVE_ROLLOUT_STATUSES } from "@/lib/api/schemas";
import { FAILED_HOST_STATES, HOST, IN_FLIGHT_HOST_STATES, OPEN_HOST_STATES } from "./states";
import { sqlList, sqlName } from "@/lib/db/sql-names";
import { getSettings } from "@/lib/settings/settings";
import { reconvergeSweep } from "./reconverge";


type RolloutRow = {
  id: string; number: number; kind: "apply" | "rollback"; status: string; patchId: string; rollbackOfId: string | null; strategy: unknown;
  hostCount: number; currentWave: number; nextWaveAt: Date | null; canaryApproved: boolean; failuresAccepted: number; patchTitle: string;
};
type FinishedRow = { hostId: string; state: RolloutHostState; error: string | null };

export interface AdvanceResult {
  status: string;
  dispatched: number;
  /** Hosts that reached a final state in this step (timeouts, failed builds). */
  finished: number;
}

/** Host timeline entries for final results, in one statement. */
export async function recordHostResults(tx: Db, r: { id: string; number: number; kind: string; patchTitle: string }, rows: FinishedRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.$executeRaw`
    insert into "HostEvent" ("hostId", type, details)
    select u."hostId", 'rollout_result', jsonb_build_object('rolloutId', ${r.id}::text, 'number', ${r.number}::int, 'kind', ${r.kind}::text,
      'patch', ${r.patchTitle}::text, 'state', u.state, 'error', u.error)
    from unnest(${rows.map((x) => x.hostId)}::uuid[], ${rows.map((x) => x.state)}::text[], ${rows.map((x) => x.error)}::text[]) as u("hostId", state, error)`;
}

/**
 * One step of a rollout's state machine, in one transaction under the rollout row's lock
 * (`for update skip locked`: if another console process is advancing it, this one does nothing).
 * Times out silent hosts, releases hosts whose build finished, enforces the failure budget,
 * moves to the next wave (pausing for approval or waiting as the strategy says), and dispatches
 * hosts up to the in-flight limit. Everything it decides is in Postgres, so a console killed at
 * any point loses nothing: the next step, in any process, takes over from the committed state.
 */
export async function advanceRollout(id: string, now = new Date()): Promise<AdvanceResult | null> {
  return prisma.$transaction(
    async (tx) => {
      const [r] = await tx.$queryRaw<RolloutRow[]>`
        select r.id::text, r.number, r.kind::text, r.status::text, r."patchId"::text, r."rollbackOfId"::text, r.strategy, r."hostCount", r."currentWave",
          r."nextWaveAt", r."canaryApproved", r."failuresAccepted", p.title as "patchTitle"
        from "Rollout" r join "Patch" p on p.id = r."patchId"
        where r.id = ${id}::uuid and r.status in ${sqlList(ACTIVE_ROLLOUT_STATUSES)}
        for update of r skip locked`;
      if (!r) return null;
      const strategy = storedStrategy(r.strategy);
      const audits: AuditInput[] = [];
      const target = { type: "rollout", id: r.id };

      // Hosts past their deadline: failed if the host is online (it got the job and said nothing
      // in time), unreachable if it is not.
      const finished = await tx.$queryRaw<FinishedRow[]>`
        update "RolloutHost" rh set
          state = (case when h.online then ${sqlName(HOST.failed)} else ${sqlName(HOST.unreachable)} end)::"RolloutHostState",
          error = case when h.online then 'no result within ' || ${strategy.hostTimeoutSec}::int || ' s (last state: ' || replace(rh.state::text, '_', ' ') || ')'
                       else 'host offline; no result within ' || ${strategy.hostTimeoutSec}::int || ' s' end,
          "finishedAt" = ${now}, "deadlineAt" = null, "updatedAt" = ${now}
        from "Host" h
        where h.id = rh."hostId" and rh."rolloutId" = ${id}::uuid and rh.state in ${sqlList(IN_FLIGHT_HOST_STATES)} and rh."deadlineAt" < ${now}
        returning rh."hostId"::text, rh.state::text, rh.error`;

      // Hosts waiting for their release's build: ready when it succeeded, skipped when it failed.
      if (r.kind === "apply") {
        await tx.$executeRaw`
          update "RolloutHost" rh set state = ${sqlName(HOST.pending)}, "buildId" = b.id, "updatedAt" = ${now}
          from "Build" b
          where rh."rolloutId" = ${id}::uuid and rh.state = ${sqlName(HOST.waiting_for_build)} and b."patchId" = ${r.patchId}::uuid
            and b."kernelRelease" = rh."kernelRelease" and b.status = ${sqlName(BuildStatus.succeeded)}`;
        const failedBuilds = await tx.$queryRaw<{ id: string; kernelRelease: string; outcome: BuildOutcome | null; error: string | null }[]>`
          select distinct b.id::text, b."kernelRelease", b.outcome::text as outcome, b.error
          from "Build" b join "RolloutHost" rh on rh."kernelRelease" = b."kernelRelease"
          where rh."rolloutId" = ${id}::uuid and rh.state = ${sqlName(HOST.waiting_for_build)} and b."patchId" = ${r.patchId}::uuid and b.status = ${sqlName(BuildStatus.failed)}`;
        for (const b of failedBuilds) {
          finished.push(
            ...(await tx.$queryRaw<FinishedRow[]>`
              update "RolloutHost" rh set state = ${sqlName(HOST.skipped)}, "buildId" = ${b.id}::uuid, "finishedAt" = ${now}, "updatedAt" = ${now}, error = ${skipReasonOf(b)}
              where rh."rolloutId" = ${id}::uuid and rh.state = ${sqlName(HOST.waiting_for_build)} and rh."kernelRelease" = ${b.kernelRelease}
              returning rh."hostId"::text, rh.state::text, rh.error`),
          );
        }
      }
      await recordHostResults(tx, r, finished);

      const waves = await tx.$queryRaw<WaveCount[]>`
        select wave, state::text, count(*)::int as n from "RolloutHost" where "rolloutId" = ${id}::uuid and wave is not null group by 1, 2`;
      const d = decideStep({ rollout: { ...r, status: r.status as StepRollout["status"] }, strategy, waves, now });
      const { status, currentWave, nextWaveAt, counts } = d;
      let pause: { kind: string; reason: string } | null = null;
      if (d.pause) {
        const canaryHost =
          d.pause.kind === "failures" && d.pause.cause === "canary"
            ? await tx.rolloutHost.findFirst({ where: { rolloutId: id, wave: 0, state: { in: [...FAILED_HOST_STATES] } }, orderBy: { finishedAt: "asc" }, select: { hostname: true, error: true } })
            : null;
        pause = { kind: d.pause.kind, reason: pauseReason(d.pause, canaryHost) };
      }
      if (d.event === "abort_finished") audits.push({ actor: SYSTEM, action: "rollout.abort_finished", target, details: { number: r.number, counts } });
      if (d.event === "completed") audits.push({ actor: SYSTEM, action: r.kind === "rollback" ? "rollback.completed" : "rollout.completed", target, details: { number: r.number, patch: r.patchTitle, counts } });
      if (d.event === "paused" && pause) audits.push({ actor: SYSTEM, action: "rollout.paused", target, details: { number: r.number, kind: pause.kind, reason: pause.reason } });

      let dispatched = 0;
      if (d.dispatch) {
        const deadline = new Date(now.getTime() + strategy.hostTimeoutSec * 1000);
        // A rollback waits, host by host, for the rollout it undoes to finish with that host.
        const [{ n }] = await tx.$queryRaw<{ n: number }[]>`
          with picked as (
            select rh.id from "RolloutHost" rh
            where rh."rolloutId" = ${id}::uuid and rh.wave = ${d.dispatch.wave} and rh.state = ${sqlName(HOST.pending)}
              and (${r.rollbackOfId}::uuid is null or not exists (
                select 1 from "RolloutHost" o where o."rolloutId" = ${r.rollbackOfId}::uuid and o."hostId" = rh."hostId" and o.state in ${sqlList(OPEN_HOST_STATES)}))
            order by rh.hostname limit ${d.dispatch.slots}
            for update skip locked),
          upd as (
            update "RolloutHost" rh set state = ${sqlName(HOST.dispatched)}, "dispatchedAt" = ${now}, "deadlineAt" = ${deadline}, "updatedAt" = ${now}
            from picked where rh.id = picked.id returning 1)
          select count(*)::int as n from upd`;
        dispatched = n;
      }

      const changed =
        status !== r.status || currentWave !== r.currentWave || (nextWaveAt?.getTime() ?? null) !== (r.nextWaveAt?.getTime() ?? null) || dispatched > 0 || finished.length > 0;
      if (!changed) return { status, dispatched, finished: 0 };
      const done = status === "completed" || status === "aborted";
      await tx.rollout.update({
        where: { id },
        data: {
          status: status as "running",
          currentWave,
          nextWaveAt,
          ...(pause ? { pauseKind: pause.kind, pauseReason: pause.reason } : {}),
          ...(done ? { finishedAt: now, pauseKind: null, pauseReason: null, nextWaveAt: null } : {}),
        },
      });
      await notify(tx, { type: "rollouts.changed", id });
      if (dispatched > 0) await notify(tx, { type: "rollout.dispatched", rolloutId: id, at: now.toISOString() });
      await appendAuditMany(tx, audits);
      return { status, dispatched, finished: finished.length };
    },
    { timeout: 30_000 },
  );
}

// How often the console looks for hosts that lost patches (when the setting re-applies them).
const RECONVERGE_MS = 5_000;

/**
 * Runs rollouts in this console process: a sweep every second over unfinished rollouts, and an
 * immediate step whenever something tells it a rollout changed (an agent's result, an operator's
 * action, a build). Steps of one rollout never overlap in a process; across processes, the row
 * lock in advanceRollout makes sure only one advances it.
 */
export class RolloutEngine {
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private stopped = false;
  private lastReconverge = 0;
  private reconverging: Promise<void> | null = null;

  constructor(private readonly opts: { intervalMs?: number; reconvergeMs?: number } = {}) {}

  start(): void {
    this.timer = setInterval(() => void this.sweep(), this.opts.intervalMs ?? 1000);
    this.timer.unref?.();
    void this.sweep();
  }

  /** Advance this rollout soon (coalesced with a step already running). */
  kick(id: string): void {
    if (this.stopped) return;
    if (this.running.has(id)) {
      this.again.add(id);
      return;
    }
    const p = this.loop(id).finally(() => this.running.delete(id));
    this.running.set(id, p);
  }

  private async loop(id: string): Promise<void> {
    do {
      this.again.delete(id);
      try {
        await advanceRollout(id);
      } catch (err) {
        log.error({ err, rolloutId: id }, "rollout step failed; retrying on the next sweep");
      }
    } while (this.again.has(id) && !this.stopped);
  }

  private async sweep(): Promise<void> {
    try {
      const ids = await prisma.rollout.findMany({ where: { status: { in: [...ACTIVE_ROLLOUT_STATUSES] } }, select: { id: true } });
      for (const { id } of ids) this.kick(id);
    } catch (err) {
      log.error({ err }, "rollout sweep failed");
    }
    if (Date.now() - this.lastReconverge >= (this.opts.reconvergeMs ?? RECONVERGE_MS) && !this.reconverging) {
      this.lastReconverge = Date.now();
      this.reconverging = getSettings()
        .then((s) => reconvergeSweep(s.reconverge))
        .then((ids) => ids.forEach((id) => this.kick(id)))
        .catch((err) => log.error({ err }, "re-convergence pass failed"))
        .finally(() => (this.reconverging = null));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.running.values(), this.reconverging]);
  }
}
