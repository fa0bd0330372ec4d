import "server-only";
// Re-convergence: a host that lost a patch it should have (a reload failed, its kept copy was
// gone, someone unloaded it) gets it applied again, as a rollout to the hosts that lost it. The
// fleet setting decides whether the console does that by itself (audited as the system) or only
// shows the drift for an operator, who re-applies from the host's page.
import { RolloutStrategySchema, type DriftCause, type Settings } from "@/lib/api/schemas";
import { SYSTEM, type Actor } from "@/lib/audit/actor";
import { prisma } from "@/lib/db/client";
import { liveOnHost, sqlList } from "@/lib/db/sql-names";
import { ConflictError } from "@/lib/errors";
import { Prisma } from "@/lib/generated/prisma/client";
import { log } from "@/lib/log";
import { livepatchModuleName, moduleNameSqlText } from "@/lib/livepatch/module-name";
import { ReloadReportSchema, type Livepatch } from "@/agent/protocol";
import { causeOf, reportOfThisBoot } from "./desired";
import { startPlanned } from "./start";
import { stacksOf } from "@/lib/builds/stacks";
import { buildOf, requiredPatches } from "@/lib/builds/stacking";
import { FAILED_HOST_STATES, OPEN_HOST_STATES } from "./states";

/** A desired patch a host does not have live (and no rollout is working on). */
export interface LostPatch {
  hostId: string;
  hostname: string;
  patchId: string;
  online: boolean;
  cause: DriftCause;
  /** A rollout tried to apply it to this host again since it became desired, and failed. */
  failedSince: boolean;
  /** Patches its build for the host's release was built on (lib/builds/stacking.ts): they go back first. */
  requires: string[];
}

/** The lost patches that can go back now: not one built on another patch the host lost too (that one goes back first). Pure. */
export function reapplicableNow(lost: readonly LostPatch[]): LostPatch[] {
  const lostOn = new Set(lost.map((l) => `${l.hostId}/${l.patchId}`));
  return lost.filter((l) => !l.requires.some((id) => lostOn.has(`${l.hostId}/${id}`)));
}

/**
 * Which lost patches the console re-applies by itself, pure: none unless the setting says so;
 * never one whose reload an operator turned off, never to an offline host (it would only time
 * out), and never again after a re-apply failed (that needs a person, not a loop).
 */
export function automaticReapplies(lost: readonly LostPatch[], mode: Settings["reconverge"]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (mode !== "auto") return out;
  for (const l of reapplicableNow(lost)) {
    if (l.cause === "reload_disabled" || !l.online || l.failedSince) continue;
    out.set(l.patchId, [...(out.get(l.patchId) ?? []), l.hostId]);
  }
  return out;
}

/** Every lost patch of active hosts (or of one host), with why it is lost. */
export async function lostPatches(opts: { hostId?: string } = {}): Promise<LostPatch[]> {
  const module = Prisma.raw(moduleNameSqlText(`d."patchId"`));
  const rows = await prisma.$queryRaw<
    { hostId: string; hostname: string; patchId: string; online: boolean; kernelRelease: string; bootId: string; livepatches: Livepatch[]; reloadReport: unknown; appliedBootId: string | null; failedSince: boolean }[]
  >`
    select h.id::text as "hostId", h.hostname, d."patchId"::text as "patchId", h.online, h."kernelRelease", h."bootId", h.livepatches, h."reloadReport", d."appliedBootId",
      exists (select 1 from "RolloutHost" rh join "Rollout" r on r.id = rh."rolloutId"
        where rh."hostId" = h.id and r."patchId" = d."patchId" and rh.state in ${sqlList(FAILED_HOST_STATES)} and rh."finishedAt" > d."appliedAt") as "failedSince"
    from "DesiredPatch" d join "Host" h on h.id = d."hostId" and h."kernelRelease" = d."kernelRelease"
    where h.status = 'active' ${opts.hostId ? Prisma.sql`and h.id = ${opts.hostId}::uuid` : Prisma.empty}
      and not ${liveOnHost(module)}
      and not exists (select 1 from "RolloutHost" rh join "Rollout" r on r.id = rh."rolloutId"
        where rh."hostId" = h.id and r."patchId" = d."patchId" and rh.state in ${sqlList(OPEN_HOST_STATES)})
    order by h.hostname`;
  const stacks = await stacksOf(prisma, [...new Set(rows.map((r) => r.kernelRelease))]);
  return rows.map((r) => {
    const report = reportOfThisBoot({ bootId: r.bootId, reloadReport: ReloadReportSchema.nullable().catch(null).parse(r.reloadReport ?? null) });
    const moduleName = livepatchModuleName(r.patchId);
    const loaded = (r.livepatches ?? []).find((l) => l.name === moduleName) ?? null;
    const { cause } = causeOf({ loaded, report, moduleName, appliedBootId: r.appliedBootId, bootId: r.bootId });
    return { hostId: r.hostId, hostname: r.hostname, patchId: r.patchId, online: r.online, cause, failedSince: r.failedSince, requires: requiredPatches(buildOf(stacks.get(r.kernelRelease) ?? [], r.patchId)) };
  });
}

// One host at a time would be slow for a fleet that rebooted at once; all at once is what a
// patch's first rollout already proved safe on these hosts. Waves of a quarter, no canary.
const STRATEGY = RolloutStrategySchema.parse({ canary: 0, waves: "25%", failureBudget: "10%" });

/**
 * Starts one rollout per patch to the hosts that lost it. Returns the rollouts started. A host
 * another console process (or an operator) is already re-applying to is left to that rollout.
 */
export async function reapply(opts: { actor: Actor; byPatch: ReadonlyMap<string, string[]>; reason: string }): Promise<string[]> {
  const started: string[] = [];
  for (const [patchId, hostIds] of opts.byPatch) {
    if (hostIds.length === 0) continue;
    try {
      started.push(
        await startPlanned({
          actor: opts.actor,
          patchId,
          target: { name: hostIds.length === 1 ? "re-apply to 1 host" : `re-apply to ${hostIds.length} hosts`, selector: { hostIds } },
          strategy: STRATEGY,
          reason: opts.reason,
        }),
      );
    } catch (err) {
      // Nothing to do any more (applied meanwhile, or another process got there first).
      if (err instanceof ConflictError) continue;
      throw err;
    }
  }
  return started;
}

/** An operator's re-apply from a host's page: every patch it lost (failed re-applies included). */
export async function reapplyToHost(opts: { actor: Actor; hostId: string }): Promise<{ rollouts: string[] }> {
  const lost = await lostPatches({ hostId: opts.hostId });
  if (lost.length === 0) throw new ConflictError("this host has every patch it should have live", "nothing_to_do");
  // A patch built on another it lost too goes back once that one is live (press again, or let re-convergence).
  const byPatch = new Map(reapplicableNow(lost).map((l) => [l.patchId, [l.hostId]]));
  return { rollouts: await reapply({ actor: opts.actor, byPatch, reason: "re-applied by an operator: the host lost patches it should have" }) };
}

/** The console's own pass (rollout engine, every few seconds): re-applies what the setting allows. */
export async function reconvergeSweep(mode: Settings["reconverge"]): Promise<string[]> {
  if (mode !== "auto") return [];
  const byPatch = automaticReapplies(await lostPatches(), mode);
  if (byPatch.size === 0) return [];
  const started = await reapply({ actor: SYSTEM, byPatch, reason: "re-convergence: hosts lost patches they should have live" });
  if (started.length) log.info({ rollouts: started, patches: [...byPatch.keys()] }, "re-applying lost patches");
  return started;
}
