import "server-only";
import { ACTIVE_ROLLOUT_STATUSES, BUILD_OUTCOME, BUILD_STATUS, BuildReportSchema } from "@/lib/api/schemas";
import type { Db } from "@/lib/db/client";
import { liveOnHost, sqlList, sqlName } from "@/lib/db/sql-names";
import { Prisma } from "@/lib/generated/prisma/client";
import { livepatchModuleName, moduleNameSqlText } from "@/lib/livepatch/module-name";
import type { PatchNamer, StackedBuild } from "./stacking";
import type { EarlierPatch } from "./types";

/**
 * The built patches of each release (what they replace, what they were built on), for deciding
 * stacking (lib/builds/stacking.ts). A build whose report does not parse counts as replacing
 * nothing: only builders that report what they replace take part in stacking.
 */
export async function stacksOf(db: Db, releases: readonly string[]): Promise<Map<string, StackedBuild[]>> {
  const out = new Map<string, StackedBuild[]>(releases.map((r) => [r, []]));
  if (releases.length === 0) return out;
  const rows = await db.$queryRaw<{ patchId: string; kernelRelease: string; report: unknown }[]>`
    select b."patchId"::text as "patchId", b."kernelRelease", b.report from "Build" b
    where b."kernelRelease" = any(${[...new Set(releases)]}::text[]) and b.status = ${sqlName(BUILD_STATUS.succeeded)} and b.report is not null`;
  for (const r of rows) {
    const report = BuildReportSchema.safeParse(r.report);
    if (!report.success) continue;
    out.get(r.kernelRelease)?.push({ patchId: r.patchId, replaced: report.data.replaced, includes: report.data.includes });
  }
  return out;
}

/**
 * SQL: patch row `earlier` was staged before patch row `later` and changes a file it changes
 * (from their analyses): with `earlier` not withdrawn, the patches a build of `later` is built on
 * top of, for a release both were built for. One definition for the queue (which waits for their
 * builds), the build, and a withdrawal (which rebuilds what was built on the withdrawn patch).
 */
export const stagedBeforeOnSameFile = (earlier: string, later: string): Prisma.Sql =>
  Prisma.raw(`((${earlier}."createdAt", ${earlier}.id) < (${later}."createdAt", ${later}.id) and ${earlier}.files && ${later}.files)`);

/** The earlier patches a build of `patchId` for `kernelRelease` goes on top of (lib/builds/types.ts EarlierPatch), in staging order. */
export async function earlierPatches(db: Db, o: { patchId: string; kernelRelease: string }): Promise<EarlierPatch[]> {
  const rows = await db.$queryRaw<{ patchId: string; title: string; diff: string; report: unknown }[]>`
    select e.id::text as "patchId", e.title, e.diff, b.report
    from "Patch" p join "Patch" e on ${stagedBeforeOnSameFile("e", "p")}
      join "Build" b on b."patchId" = e.id and b."kernelRelease" = ${o.kernelRelease} and b.status = ${sqlName(BUILD_STATUS.succeeded)}
    where p.id = ${o.patchId}::uuid and e."withdrawnAt" is null
    order by e."createdAt", e.id`;
  return rows.map((r) => ({ patchId: r.patchId, title: r.title, diff: r.diff, replaced: BuildReportSchema.safeParse(r.report).data?.replaced ?? [] }));
}

/** Names the patches of `stacks` as stacking's reasons do: `patch "title" (livepatch_…)`. */
export async function patchNamer(db: Db, stacks: Map<string, StackedBuild[]>): Promise<PatchNamer> {
  const ids = [...new Set([...stacks.values()].flat().map((b) => b.patchId))];
  const titles = new Map((await db.patch.findMany({ where: { id: { in: ids } }, select: { id: true, title: true } })).map((p) => [p.id, p.title]));
  return (id) => `patch "${titles.get(id) ?? id}" (${livepatchModuleName(id)})`;
}

/** What a build queued again is set to: as a new build (no artifact, report, outcome or log). */
const REQUEUED = (why: string) => Prisma.sql`status = ${sqlName(BUILD_STATUS.queued)}::"BuildStatus", outcome = null, report = null, error = null, result = null,
  "artifactSha256" = null, "artifactSize" = null, "moduleName" = null, signature = null,
  "queuedAt" = now(), "startedAt" = null, "finishedAt" = null, "retryAt" = null, "leaseUntil" = null, log = ${`queued again: ${why}\n`}`;

/**
 * Builds whose stacking is out of date are queued again, when nothing runs them: no host of the
 * release has or should have the patch live and no rollout of it is under way (a live build is
 * kept; the rule at load time keeps it from undoing anything, lib/builds/stacking.ts). Out of
 * date: built on a patch withdrawn since; or an earlier patch of its files (not withdrawn) was
 * built for the release replacing a function it replaces, and it does not include it (that build
 * finished later, e.g. its release was added to its targets); or it failed before such an earlier
 * build finished or was withdrawn (it may apply only on top of it, or only without it). Runs with
 * the build sweep, and in a withdrawal's transaction.
 */
export async function requeueStaleBuilds(db: Db): Promise<{ id: string; patchId: string; kernelRelease: string }[]> {
  const included = (b: string, patch: string) => Prisma.raw(`exists (select 1 from jsonb_array_elements(coalesce(${b}.report->'includes', '[]'::jsonb)) i where i->>'patchId' = ${patch}.id::text)`);
  const failed = Prisma.sql`b.status = ${sqlName(BUILD_STATUS.failed)} and b.outcome::text = ${sqlName(BUILD_OUTCOME.failed)}`;
  const succeeded = Prisma.sql`b.status = ${sqlName(BUILD_STATUS.succeeded)}`;
  return db.$queryRaw<{ id: string; patchId: string; kernelRelease: string }[]>`
    with stale as materialized (
      select b.id from "Build" b join "Patch" l on l.id = b."patchId" and l."withdrawnAt" is null
      where (${succeeded} or ${failed}) and (
        (${succeeded} and exists (select 1 from jsonb_array_elements(coalesce(b.report->'includes', '[]'::jsonb)) i join "Patch" w on w.id::text = i->>'patchId'
           where w."withdrawnAt" is not null and jsonb_array_length(i->'functions') > 0))
        or (${failed} and exists (select 1 from "Patch" w where w."withdrawnAt" > b."finishedAt" and ${stagedBeforeOnSameFile("w", "l")}))
        or exists (select 1 from "Patch" e join "Build" eb on eb."patchId" = e.id and eb."kernelRelease" = b."kernelRelease" and eb.status = ${sqlName(BUILD_STATUS.succeeded)}
          where e."withdrawnAt" is null and ${stagedBeforeOnSameFile("e", "l")} and (
            (${succeeded} and not ${included("b", "e")}
              and exists (select 1 from jsonb_array_elements(coalesce(eb.report->'replaced', '[]'::jsonb)) x join jsonb_array_elements(coalesce(b.report->'replaced', '[]'::jsonb)) y
                on x->>'object' = y->>'object' and x->>'function' = y->>'function'))
            or (${failed} and eb."finishedAt" > b."finishedAt"))))
    ), idle as (
      select s.id from stale s join "Build" b on b.id = s.id
      where not exists (select 1 from "DesiredPatch" d where d."patchId" = b."patchId" and d."kernelRelease" = b."kernelRelease")
        and not exists (select 1 from "Host" h where h.status = 'active' and h."kernelRelease" = b."kernelRelease" and ${liveOnHost(Prisma.raw(moduleNameSqlText(`b."patchId"`)))})
        and not exists (select 1 from "Rollout" r where r."patchId" = b."patchId" and r.status in ${sqlList(ACTIVE_ROLLOUT_STATUSES)})
      for update of b skip locked
    )
    update "Build" b set ${REQUEUED("the earlier patches of its files built for its release changed (one was built or withdrawn since): built again on top of those in use")}
    from idle where b.id = idle.id
    returning b.id::text, b."patchId"::text as "patchId", b."kernelRelease"`;
}
