import { rebootOnly } from "@/lib/analysis/live-patchable";
import "server-only";
import { resolveCount, type GroupSelector, type RolloutPreview, type RolloutStrategy } from "@/lib/api/schemas";
import { livepatchModuleName } from "@/lib/livepatch/module-name";
import { skipReasonOf } from "@/lib/builds/outcomes";
import type { Db } from "@/lib/db/client";
import { ConflictError, NotFoundError } from "@/lib/errors";
import { memberSql } from "@/lib/groups/selector";
import { storedSelector } from "@/lib/groups/groups";
import { BuildStatus } from "@/lib/generated/prisma/enums";
import { HOST, OPEN_HOST_STATES, type WAITING_HOST_STATES } from "./states";
import { liveModules, liveOnHost, sqlList } from "@/lib/db/sql-names";
import { patchNamer, stacksOf } from "@/lib/builds/stacks";
import { applyBlocker, buildOf } from "@/lib/builds/stacking";
import { Prisma } from "@/lib/generated/prisma/client";

/** One host's row as a rollout starts: its wave (null when skipped up front) and first state. */
export interface PlannedHost {
  hostId: string;
  hostname: string;
  kernelRelease: string;
  wave: number | null;
  state: (typeof WAITING_HOST_STATES)[number] | typeof HOST.skipped;
  buildId: string | null;
  error: string | null;
}

export interface RolloutPlan {
  preview: RolloutPreview;
  hosts: PlannedHost[];
  /** Kernel releases of hosts to patch that have no build yet: the rollout queues them. */
  missingBuilds: string[];
  moduleName: string;
}

type Member = { id: string; hostname: string; kernelRelease: string; online: boolean; applied: boolean; busyIn: number | null; live: string[] };

/**
 * Splits the hosts to patch into waves: wave 0 is the canary (hosts most likely to tell the truth
 * about the rest: online, build ready, on the most common kernels), then waves of the strategy's
 * size. Pure; the order is deterministic so a preview and the rollout it starts agree.
 */
export function planWaves<T extends { hostname: string; kernelRelease: string; online: boolean; ready: boolean }>(hosts: T[], strategy: RolloutStrategy): T[][] {
  const perRelease = new Map<string, number>();
  for (const h of hosts) perRelease.set(h.kernelRelease, (perRelease.get(h.kernelRelease) ?? 0) + 1);
  const byName = (a: T, b: T) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0);
  const canaryOrder = [...hosts].sort(
    (a, b) =>
      Number(b.online) - Number(a.online) ||
      Number(b.ready) - Number(a.ready) ||
      (perRelease.get(b.kernelRelease) ?? 0) - (perRelease.get(a.kernelRelease) ?? 0) ||
      byName(a, b),
  );
  const canary = canaryOrder.slice(0, Math.min(strategy.canary, hosts.length));
  const inCanary = new Set(canary);
  const rest = hosts.filter((h) => !inCanary.has(h)).sort(byName);
  const waves: T[][] = canary.length ? [canary] : [[]];
  const size = Math.max(1, resolveCount(strategy.waves, rest.length));
  for (let i = 0; i < rest.length; i += size) waves.push(rest.slice(i, i + size));
  return waves;
}

/** Whom a rollout is for: a group's members now, or named hosts (re-applying a patch they lost). */
export type RolloutTarget = { groupId: string } | { name: string; selector: GroupSelector };

/**
 * What a rollout of `patchId` to `groupId` would do now: every member of the group with either
 * a wave or the reason it is skipped. Used for the confirmation (preview) and, inside the
 * starting transaction, for the rollout itself.
 */
export async function planRollout(opts: { db: Db; patchId: string; target: RolloutTarget; strategy: RolloutStrategy }): Promise<RolloutPlan> {
  const { db, strategy } = opts;
  const patch = await db.patch.findUnique({ where: { id: opts.patchId }, select: { id: true, title: true, cves: true, verdict: true, targetReleases: true, withdrawnAt: true, withdrawReason: true } });
  if (!patch) throw new NotFoundError("patch");
  if (patch.withdrawnAt) throw new ConflictError(`"${patch.title}" is withdrawn (${patch.withdrawReason ?? "no reason given"}): it is not rolled out any more`, "withdrawn");
  const group =
    "groupId" in opts.target
      ? await db.group.findUnique({ where: { id: opts.target.groupId }, select: { id: true, name: true, selector: true } })
      : { id: null, name: opts.target.name, selector: opts.target.selector };
  if (!group) throw new NotFoundError("group");
  const moduleName = livepatchModuleName(patch.id);

  const members = await db.$queryRaw<Member[]>`
    select h.id::text, h.hostname, h."kernelRelease", h.online,
      ${liveOnHost(Prisma.sql`${moduleName}::text`)} as applied,
      (select r.number from "RolloutHost" rh join "Rollout" r on r.id = rh."rolloutId"
        where rh."hostId" = h.id and r."patchId" = ${patch.id}::uuid
          and rh.state in ${sqlList(OPEN_HOST_STATES)}
        order by r.number limit 1) as "busyIn",
      ${liveModules()} as live
    from "Host" h where ${memberSql(storedSelector(group.selector))}
    order by h.hostname`;
  const builds = new Map(
    (await db.build.findMany({ where: { patchId: patch.id }, select: { id: true, kernelRelease: true, status: true, outcome: true, error: true } })).map((b) => [b.kernelRelease, b]),
  );

  if (rebootOnly({ verdict: patch.verdict, anyBuilt: [...builds.values()].some((b) => b.status === BuildStatus.succeeded) })) {
    throw new ConflictError("this patch cannot be applied live: its analysis says it requires a reboot and no release's build says otherwise", "requires_reboot");
  }
  const stackProblem = await stackingProblems(db, patch.id, members);
  const targeted = (release: string) => patch.targetReleases.length === 0 || patch.targetReleases.includes(release);
  const skipped: PlannedHost[] = [];
  const candidates: (Member & { ready: boolean; buildId: string | null })[] = [];
  let blocked: string | null;
  for (const m of members) {
    const skip = (error: string) => skipped.push({ hostId: m.id, hostname: m.hostname, kernelRelease: m.kernelRelease, wave: null, state: HOST.skipped, buildId: null, error });
    const build = builds.get(m.kernelRelease);
    if (!m.kernelRelease) skip("kernel release unknown: the host has not reported its inventory yet");
    else if (!targeted(m.kernelRelease)) skip(`kernel ${m.kernelRelease} is not one this patch targets`);
    else if (m.applied) skip(`already applied: livepatch ${moduleName} is live`);
    else if (m.busyIn !== null) skip(`already being patched by rollout ${m.busyIn}`);
    else if (build?.status === BuildStatus.failed) skip(skipReasonOf(build));
    else if ((blocked = stackProblem(m))) skip(blocked);
    else candidates.push({ ...m, ready: build?.status === BuildStatus.succeeded, buildId: build?.id ?? null });
  }

  const waves = planWaves(candidates, strategy);
  const hosts: PlannedHost[] = [
    ...waves.flatMap((wave, i) =>
      wave.map((c): PlannedHost => ({ hostId: c.id, hostname: c.hostname, kernelRelease: c.kernelRelease, wave: i, state: c.ready ? HOST.pending : HOST.waiting_for_build, buildId: c.buildId, error: null })),
    ),
    ...skipped,
  ];

  const releases = new Map<string, number>();
  for (const c of candidates) releases.set(c.kernelRelease, (releases.get(c.kernelRelease) ?? 0) + 1);
  const missingBuilds = [...releases.keys()].filter((r) => !builds.has(r)).sort();
  const reasons = new Map<string, number>();
  for (const s of skipped) reasons.set(s.error!, (reasons.get(s.error!) ?? 0) + 1);

  const preview: RolloutPreview = {
    patch: { id: patch.id, title: patch.title, cves: patch.cves, verdict: patch.verdict.replace(/_/g, "-") as RolloutPreview["patch"]["verdict"] },
    group: { id: group.id, name: group.name },
    strategy,
    members: members.length,
    toPatch: candidates.length,
    skipped: [...reasons].map(([reason, n]) => ({ reason, hosts: n })).sort((a, b) => b.hosts - a.hosts),
    kernelReleases: [...releases]
      .map(([kernelRelease, n]) => ({ kernelRelease, hosts: n, build: builds.get(kernelRelease)?.status ?? ("missing" as const) }))
      .sort((a, b) => b.hosts - a.hosts || a.kernelRelease.localeCompare(b.kernelRelease)),
    buildsMissing: missingBuilds.length,
    waves: candidates.length ? waves.map((w) => w.length) : [],
    offline: candidates.filter((c) => !c.online).length,
  };
  return { preview, hosts, missingBuilds, moduleName };
}

/** Refuses a rollout that would patch no host, saying why each member was left out. */
export function assertSomethingToDo(plan: RolloutPlan): void {
  if (plan.preview.toPatch > 0) return;
  if (plan.preview.members === 0) throw new ConflictError(`group "${plan.preview.group.name}" has no hosts`, "nothing_to_do");
  const why = plan.preview.skipped.map((s) => `${s.hosts} ${s.reason}`).join("; ");
  throw new ConflictError(`nothing to roll out: none of the ${plan.preview.members} hosts of "${plan.preview.group.name}" needs this patch (${why})`, "nothing_to_do");
}

/**
 * Why a host cannot take this patch's build for its release because of the livepatches it runs
 * (lib/builds/stacking.ts), or null. The agent checks the same again when the job runs.
 */
async function stackingProblems(db: Db, patchId: string, members: readonly Member[]): Promise<(m: Member) => string | null> {
  const stacks = await stacksOf(db, [...new Set(members.map((m) => m.kernelRelease).filter(Boolean))]);
  const name = await patchNamer(db, stacks);
  return (m) => {
    const others = stacks.get(m.kernelRelease) ?? [];
    return applyBlocker({ build: buildOf(others, patchId), others, live: new Set(m.live), name });
  };
}
