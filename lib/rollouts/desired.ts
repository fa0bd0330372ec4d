import "server-only";
// What each host should have live, and where it differs (drift). A rollout's host result sets it:
// an apply that succeeded makes the patch desired on that host for the kernel release it ran; a
// rollback that reverted it takes it out. A host that reboots into the same kernel is expected to
// have it again (its agent reloads it); one that boots another release is not, until it comes back.
import type { Livepatch, ReloadReport } from "@/agent/protocol";
import { RELOAD } from "@/agent/protocol";
import type { Drift, DriftCause } from "@/lib/api/schemas";
import type { Tx } from "@/lib/db/client";
import { liveOnHost, sqlList } from "@/lib/db/sql-names";
import { Prisma } from "@/lib/generated/prisma/client";
import { livepatchModuleName, moduleNameSqlText } from "@/lib/livepatch/module-name";
import { HOST, OPEN_HOST_STATES } from "./states";

/** A finished host result of a rollout, as the job relay records it. */
export interface FinishedResult {
  hostId: string;
  rolloutId: string;
  patchId: string;
  kernelRelease: string;
  state: string;
}

/**
 * Updates the desired state for finished host results, in the caller's transaction: `succeeded`
 * (an apply) makes the patch desired for that release, with the host's boot at that moment;
 * `reverted` (a rollback) takes it out. Other results change nothing: a failed rollback leaves
 * the patch where it was.
 */
export async function recordDesired(tx: Tx, results: readonly FinishedResult[]): Promise<void> {
  const applied = results.filter((r) => r.state === HOST.succeeded);
  const reverted = results.filter((r) => r.state === HOST.reverted);
  if (applied.length) {
    await tx.$executeRaw`
      insert into "DesiredPatch" ("hostId", "patchId", "kernelRelease", "rolloutId", "appliedBootId", "appliedAt")
      select u."hostId", u."patchId", u."kernelRelease", u."rolloutId", nullif(h."bootId", ''), now()
      from unnest(${applied.map((r) => r.hostId)}::uuid[], ${applied.map((r) => r.patchId)}::uuid[], ${applied.map((r) => r.kernelRelease)}::text[],
        ${applied.map((r) => r.rolloutId)}::uuid[]) as u("hostId", "patchId", "kernelRelease", "rolloutId")
      join "Host" h on h.id = u."hostId"
      on conflict ("hostId", "patchId", "kernelRelease") do update
        set "rolloutId" = excluded."rolloutId", "appliedBootId" = excluded."appliedBootId", "appliedAt" = excluded."appliedAt"`;
  }
  if (reverted.length) {
    await tx.$executeRaw`
      delete from "DesiredPatch" d
      using unnest(${reverted.map((r) => r.hostId)}::uuid[], ${reverted.map((r) => r.patchId)}::uuid[], ${reverted.map((r) => r.kernelRelease)}::text[]) as u("hostId", "patchId", "kernelRelease")
      where d."hostId" = u."hostId" and d."patchId" = u."patchId" and d."kernelRelease" = u."kernelRelease"`;
  }
}


export interface DesiredRow {
  patchId: string;
  title: string;
  rolloutId: string;
  appliedBootId: string | null;
  appliedAt: Date;
}

/** The agent's reload report if it is about the boot the host runs now. */
export const reportOfThisBoot = (h: { bootId: string; reloadReport: ReloadReport | null }): ReloadReport | null => (h.reloadReport?.bootId === h.bootId ? h.reloadReport : null);

/** Why a desired patch is not live on a host: its reload report for this boot, or the boot ids, tell. */
export function causeOf(o: { loaded: Livepatch | null; report: ReloadReport | null; moduleName: string; appliedBootId: string | null; bootId: string }): { cause: DriftCause; why: string } {
  const reloaded = o.report?.patches.find((p) => p.moduleName === o.moduleName);
  const rebooted = o.appliedBootId !== null && o.appliedBootId !== o.bootId;
  const [cause, why]: [DriftCause, string] = o.loaded
    ? ["disabled", "loaded but disabled"]
    : reloaded?.outcome === RELOAD.failed
      ? ["reload_failed", `the host rebooted and the kernel refused the reload: ${reloaded.reason ?? "no reason given"}`]
      : reloaded?.outcome === RELOAD.refused
        ? ["reload_refused", `the host rebooted and its agent refused the kept module: ${reloaded.reason ?? "no reason given"}`]
        : reloaded?.outcome === RELOAD.disabled
          ? ["reload_disabled", "the host rebooted, and reloading at boot is turned off for its groups"]
          : rebooted && !reloaded
            ? ["rebooted", "the host rebooted and its agent did not load the patch again (an agent without reload, or its kept copy is gone)"]
            : o.appliedBootId === null
              ? ["unrecorded", "not live; applied before boots were recorded"]
              : ["removed", rebooted ? "taken out since the reload at boot" : "taken out since it was applied, without a reboot (unloaded by hand?)"];
  return { cause, why };
}

/** Missing: desired for the release the host runs, and not live. Unexpected: a staged patch's module live that no rollout applied there for this release. */
export type HostDrift = Omit<Drift, "reload">;

/**
 * A host's drift, pure: its desired patches for the running release against its inventory, with
 * the reason the agent's reload report or the boot ids give. Patches with a rollout still open on
 * the host are left out: that rollout decides them.
 */
export function driftOf(o: {
  host: { bootId: string; livepatches: readonly Livepatch[]; reloadReport: ReloadReport | null };
  desired: readonly DesiredRow[];
  /** Staged patches by module name (for modules live on the host). */
  patches: ReadonlyMap<string, { id: string; title: string }>;
  /** Patch ids with a rollout still open on this host. */
  open: ReadonlySet<string>;
}): HostDrift {
  const live = new Map(o.host.livepatches.map((l) => [l.name, l]));
  const report = reportOfThisBoot(o.host);
  const missing: HostDrift["missing"] = [];
  for (const d of o.desired) {
    const moduleName = livepatchModuleName(d.patchId);
    const lp = live.get(moduleName);
    if ((lp && lp.enabled) || o.open.has(d.patchId)) continue;
    const { cause, why } = causeOf({ loaded: lp ?? null, report, moduleName, appliedBootId: d.appliedBootId, bootId: o.host.bootId });
    missing.push({ patchId: d.patchId, title: d.title, moduleName, rolloutId: d.rolloutId, appliedAt: d.appliedAt.toISOString(), cause, why });
  }
  const desired = new Set(o.desired.map((d) => d.patchId));
  const unexpected = o.host.livepatches
    .filter((l) => l.enabled)
    .map((l) => ({ l, p: o.patches.get(l.name) }))
    .filter(({ p }) => p && !desired.has(p.id) && !o.open.has(p.id))
    .map(({ l, p }) => ({ patchId: p!.id, title: p!.title, moduleName: l.name }));
  return { missing, unexpected };
}

const OPEN_ON_HOST = (patchSql: Prisma.Sql) => Prisma.sql`exists (
  select 1 from "RolloutHost" rh join "Rollout" r on r.id = rh."rolloutId"
  where rh."hostId" = h.id and r."patchId" = ${patchSql} and rh.state in ${sqlList(OPEN_HOST_STATES)})`;

/**
 * `driftOf(...)` is non-empty, as SQL over host `h`: for the hosts list's filter, its badge and
 * the fleet counts. The same rules; a test checks the two agree.
 */
export const HOST_DRIFTS = Prisma.sql`(
  exists (
    select 1 from "DesiredPatch" d where d."hostId" = h.id and d."kernelRelease" = h."kernelRelease"
      and not ${liveOnHost(Prisma.raw(moduleNameSqlText("d.\"patchId\"")))} and not ${OPEN_ON_HOST(Prisma.sql`d."patchId"`)})
  or exists (
    select 1 from jsonb_array_elements(h.livepatches) lp join "Patch" p on ${Prisma.raw(moduleNameSqlText("p.id"))} = lp->>'name'
    where (lp->>'enabled')::boolean
      and not exists (select 1 from "DesiredPatch" d where d."hostId" = h.id and d."patchId" = p.id and d."kernelRelease" = h."kernelRelease")
      and not ${OPEN_ON_HOST(Prisma.sql`p.id`)}))`;

/** The desired rows of a host for a release, with the patch's title; and the patches open on it. */
export async function desiredOf(db: Pick<Tx, "$queryRaw">, host: { id: string; kernelRelease: string }): Promise<{ desired: DesiredRow[]; open: Set<string> }> {
  const [desired, open] = await Promise.all([
    db.$queryRaw<DesiredRow[]>`
      select d."patchId"::text as "patchId", p.title, d."rolloutId"::text as "rolloutId", d."appliedBootId", d."appliedAt"
      from "DesiredPatch" d join "Patch" p on p.id = d."patchId"
      where d."hostId" = ${host.id}::uuid and d."kernelRelease" = ${host.kernelRelease}
      order by d."appliedAt"`,
    db.$queryRaw<{ patchId: string }[]>`
      select distinct r."patchId"::text as "patchId" from "RolloutHost" rh join "Rollout" r on r.id = rh."rolloutId"
      where rh."hostId" = ${host.id}::uuid and rh.state in ${sqlList(OPEN_HOST_STATES)}`,
  ]);
  return { desired, open: new Set(open.map((o) => o.patchId)) };
}

