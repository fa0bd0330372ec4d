import "server-only";
import { BUILD_STATUS, BuildReportSchema } from "@/lib/api/schemas";
import type { Db } from "@/lib/db/client";
import { sqlName } from "@/lib/db/sql-names";
import { Prisma } from "@/lib/generated/prisma/client";
import { livepatchModuleName } from "@/lib/livepatch/module-name";
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
  Prisma.raw(`((${earlier}."createdAt", ${earlier}.id) < (${later}."createdAt", ${later}.id)
    and exists (select 1 from jsonb_array_elements(${earlier}.analysis->'files') ef
                join jsonb_array_elements(${later}.analysis->'files') lf on ef->>'path' = lf->>'path'))`);

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
