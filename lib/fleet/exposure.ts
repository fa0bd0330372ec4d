import "server-only";
import type { Livepatch } from "@/agent/protocol";
import type { EffectiveKernel, Exposure, ExposureItem } from "@/lib/api/schemas";
import { livepatchModuleName, moduleNameSqlText } from "@/lib/livepatch/module-name";
import { prisma } from "@/lib/db/client";
import { Prisma } from "@/lib/generated/prisma/client";
import { memberSql } from "@/lib/groups/selector";
import { storedSelector } from "@/lib/groups/groups";
import { BUILD_OUTCOME, BUILD_STATUS } from "@/lib/api/schemas";
import { liveOnHost, sqlList, sqlName } from "@/lib/db/sql-names";
import { rebootOnly } from "@/lib/analysis/live-patchable";
import { skipReasonOf } from "@/lib/builds/outcomes";

const MODULE = Prisma.raw(moduleNameSqlText("p.id"));
const LIVE = liveOnHost(MODULE);
const TARGETED = Prisma.sql`(cardinality(p."targetReleases") = 0 or h."kernelRelease" = any(p."targetReleases"))`;

/** A release's build found nothing to fix: the fix is in it already, or the patched code is not built, or unchanged. */
export const NOT_AFFECTED_OUTCOMES = [BUILD_OUTCOME.already_fixed, BUILD_OUTCOME.not_built, BUILD_OUTCOME.no_change] as const;
/** A release's build found it cannot be fixed live. */
export const NO_LIVE_FIX_OUTCOMES = [BUILD_OUTCOME.refused, BUILD_OUTCOME.does_not_compile] as const;

/** With `b` the build of `p` for `h`'s release (left joined): `h` runs code the patch does not change. */
const NOT_AFFECTED = Prisma.sql`coalesce(b.outcome::text in ${sqlList(NOT_AFFECTED_OUTCOMES)}, false)`;
/** No live patch of `p` for `h`'s release: its build refused it, the patch needs a reboot and no release built it, or it was withdrawn. */
const NO_LIVE_FIX = Prisma.sql`(coalesce(b.outcome::text in ${sqlList(NO_LIVE_FIX_OUTCOMES)}, false) or p."withdrawnAt" is not null
  or (p.verdict = 'requires_reboot' and not exists (select 1 from "Build" ok where ok."patchId" = p.id and ok.status = ${sqlName(BUILD_STATUS.succeeded)})))`;
const BUILD_OF = Prisma.sql`left join "Build" b on b."patchId" = p.id and b."kernelRelease" = h."kernelRelease"`;

/** Host ids a patch targets, runs code it changes, and does not have live: the hosts list's `missing` filter. */
export async function hostsMissingPatch(patchId: string): Promise<string[]> {
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    select h.id::text from "Host" h join "Patch" p on p.id = ${patchId}::uuid ${BUILD_OF}
    where h.status = 'active' and h."kernelRelease" <> '' and ${TARGETED} and not ${LIVE} and not ${NOT_AFFECTED}`;
  return rows.map((r) => r.id);
}

/** The host's kernel as it runs: release plus live patches, each named by the patch it came from. */
export async function effectiveKernel(host: { id: string; kernelRelease: string; livepatches: Livepatch[] }): Promise<EffectiveKernel> {
  const patches = await prisma.patch.findMany({
    select: {
      id: true, title: true, cves: true, severity: true, verdict: true, targetReleases: true, withdrawnAt: true, withdrawReason: true,
      builds: { where: { OR: [{ kernelRelease: host.kernelRelease }, { status: BUILD_STATUS.succeeded }] }, select: { kernelRelease: true, status: true, outcome: true, error: true } },
    },
    orderBy: { createdAt: "desc" },
  });
  const byModule = new Map(patches.map((p) => [livepatchModuleName(p.id), p]));
  const live = host.livepatches.map((lp) => {
    const p = byModule.get(lp.name);
    return { ...lp, patch: p ? { id: p.id, title: p.title, cves: p.cves } : null };
  });
  const liveNames = new Set(host.livepatches.filter((l) => l.enabled).map((l) => l.name));
  const missing = host.kernelRelease
    ? patches.flatMap((p) => {
        if (!(p.targetReleases.length === 0 || p.targetReleases.includes(host.kernelRelease)) || liveNames.has(livepatchModuleName(p.id))) return [];
        const build = p.builds.find((b) => b.kernelRelease === host.kernelRelease);
        if (build?.outcome && (NOT_AFFECTED_OUTCOMES as readonly string[]).includes(build.outcome)) return [];
        const refused = build?.outcome && (NO_LIVE_FIX_OUTCOMES as readonly string[]).includes(build.outcome);
        const noLiveFix = refused || p.withdrawnAt !== null || rebootOnly({ verdict: p.verdict, anyBuilt: p.builds.some((b) => b.status === BUILD_STATUS.succeeded) });
        const why = p.withdrawnAt ? `the patch was withdrawn (${p.withdrawReason ?? "no reason given"}): no live patch of it will be rolled out` : refused ? skipReasonOf(build) : noLiveFix ? "the patch changes what no live patch can: it needs a reboot" : null;
        return [{ patchId: p.id, title: p.title, cves: p.cves, severity: p.severity, verdict: p.verdict.replace(/_/g, "-"), remedy: noLiveFix ? ("reboot" as const) : ("live_patch" as const), why }];
      })
    : [];
  const enabled = live.filter((l) => l.enabled).length;
  return {
    summary: `${host.kernelRelease || "unknown kernel"}${enabled ? ` + ${enabled} livepatch${enabled === 1 ? "" : "es"}` : ""}`,
    livepatches: live,
    missing,
  };
}

const SEVERITY_RANK: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/**
 * Per CVE and host the patches fixing it target: exposed when none of them is live and no
 * release build says the host's kernel is not affected; `rebootRequired` when, moreover, none of
 * them can be live on its release.
 */
const HOST_CVE = Prisma.sql`
  select c.cve, h.id as "hostId", h."kernelRelease",
    bool_and(not ${LIVE}) and not bool_or(${NOT_AFFECTED}) as exposed,
    bool_and(not ${LIVE}) and not bool_or(${NOT_AFFECTED}) and bool_and(${NO_LIVE_FIX}) as "rebootRequired"
  from "Patch" p cross join lateral unnest(p.cves) as c(cve)
  join "Host" h on h.status = 'active' and h."kernelRelease" <> '' and ${TARGETED}
  ${BUILD_OF}
  group by c.cve, h.id, h."kernelRelease"`;

/** Active hosts exposed to some CVE that only a reboot fixes: the fleet overview and /metrics. */
export async function rebootRequiredHosts(): Promise<number> {
  const [r] = await prisma.$queryRaw<{ n: number }[]>`with hc as (${HOST_CVE}) select count(distinct "hostId")::int as n from hc where "rebootRequired"`;
  return r?.n ?? 0;
}

/**
 * For every CVE of a staged patch: how many active hosts it targets are still exposed (the patch
 * is not live on them), by kernel release and by group. A CVE fixed by several patches counts a
 * host as exposed while none of them is live there. Aggregated in SQL: the fleet overview asks
 * for this whenever hosts change, and CVEs × hosts is too many rows to count in JavaScript.
 */
export async function exposure(opts: { limit: number }): Promise<Exposure> {
  const [byRelease, cves, totals, groups] = await Promise.all([
    prisma.$queryRaw<{ cve: string; kernelRelease: string; targeted: number; exposed: number; rebootRequired: number }[]>`
      with hc as (${HOST_CVE})
      select cve, "kernelRelease", count(*)::int as targeted, count(*) filter (where exposed)::int as exposed,
        count(*) filter (where "rebootRequired")::int as "rebootRequired"
      from hc group by 1, 2`,
    prisma.$queryRaw<{ cve: string; patches: { id: string; title: string; severity: string }[] }[]>`
      select c.cve, jsonb_agg(jsonb_build_object('id', p.id, 'title', p.title, 'severity', p.severity) order by p."createdAt") as patches
      from "Patch" p cross join lateral unnest(p.cves) as c(cve) group by c.cve`,
    prisma.$queryRaw<{ exposedHosts: number; rebootHosts: number; activeHosts: number }[]>`
      with hc as (${HOST_CVE})
      select (select count(distinct "hostId") from hc where exposed)::int as "exposedHosts",
        (select count(distinct "hostId") from hc where "rebootRequired")::int as "rebootHosts",
        (select count(*) from "Host" where status = 'active')::int as "activeHosts"`,
    prisma.group.findMany({ select: { id: true, name: true, selector: true }, orderBy: { name: "asc" } }),
  ]);
  const byGroup = await Promise.all(
    groups.map((g) =>
      prisma.$queryRaw<{ cve: string; targeted: number; exposed: number }[]>`
        with hc as (${HOST_CVE})
        select hc.cve, count(*)::int as targeted, count(*) filter (where hc.exposed)::int as exposed
        from hc join "Host" h on h.id = hc."hostId" where ${memberSql(storedSelector(g.selector))} group by 1`,
    ),
  );
  const items: ExposureItem[] = cves
    .map(({ cve, patches }) => {
      const releases = byRelease.filter((r) => r.cve === cve);
      const severity = patches.map((p) => p.severity).sort((a, b) => SEVERITY_RANK[a] - SEVERITY_RANK[b])[0];
      return {
        cve,
        severity: severity as ExposureItem["severity"],
        patches: patches.map((p) => ({ id: p.id, title: p.title })),
        targeted: releases.reduce((n, r) => n + r.targeted, 0),
        exposed: releases.reduce((n, r) => n + r.exposed, 0),
        rebootRequired: releases.reduce((n, r) => n + r.rebootRequired, 0),
        byRelease: releases
          .map(({ kernelRelease, targeted, exposed, rebootRequired }) => ({ kernelRelease, targeted, exposed, rebootRequired }))
          .sort((a, b) => b.exposed - a.exposed || a.kernelRelease.localeCompare(b.kernelRelease)),
        byGroup: groups
          .map((g, i) => {
            const row = byGroup[i].find((r) => r.cve === cve);
            return { groupId: g.id, name: g.name, targeted: row?.targeted ?? 0, exposed: row?.exposed ?? 0 };
          })
          .filter((g) => g.targeted > 0),
      };
    })
    .filter((i) => i.targeted > 0);
  items.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || b.exposed - a.exposed || a.cve.localeCompare(b.cve));
  return { items: items.slice(0, opts.limit), exposedHosts: totals[0]?.exposedHosts ?? 0, rebootHosts: totals[0]?.rebootHosts ?? 0, activeHosts: totals[0]?.activeHosts ?? 0 };
}
