import "server-only";
import type { Livepatch } from "@/agent/protocol";
import type { EffectiveKernel, Exposure, ExposureItem } from "@/lib/api/schemas";
import { livepatchModuleName, moduleNameSqlText } from "@/lib/livepatch/module-name";
import { prisma } from "@/lib/db/client";
import { Prisma } from "@/lib/generated/prisma/client";
import { memberSql } from "@/lib/groups/selector";
import { storedSelector } from "@/lib/groups/groups";

const MODULE = Prisma.raw(moduleNameSqlText("p.id"));
/** `p` targets host `h` and is not live on it. */
const EXPOSED = Prisma.sql`(cardinality(p."targetReleases") = 0 or h."kernelRelease" = any(p."targetReleases"))
  and not h.livepatches @> jsonb_build_array(jsonb_build_object('name', ${MODULE}, 'enabled', true))`;
const TARGETED = Prisma.sql`(cardinality(p."targetReleases") = 0 or h."kernelRelease" = any(p."targetReleases"))`;

/** Host ids a patch targets that do not have it live: the hosts list's `missing` filter. */
export async function hostsMissingPatch(patchId: string): Promise<string[]> {
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    select h.id::text from "Host" h join "Patch" p on p.id = ${patchId}::uuid
    where h.status = 'active' and h."kernelRelease" <> '' and ${EXPOSED}`;
  return rows.map((r) => r.id);
}

/** The host's kernel as it runs: release plus live patches, each named by the patch it came from. */
export async function effectiveKernel(host: { id: string; kernelRelease: string; livepatches: Livepatch[] }): Promise<EffectiveKernel> {
  const patches = await prisma.patch.findMany({ select: { id: true, title: true, cves: true, severity: true, verdict: true, targetReleases: true }, orderBy: { createdAt: "desc" } });
  const byModule = new Map(patches.map((p) => [livepatchModuleName(p.id), p]));
  const live = host.livepatches.map((lp) => {
    const p = byModule.get(lp.name);
    return { ...lp, patch: p ? { id: p.id, title: p.title, cves: p.cves } : null };
  });
  const liveNames = new Set(host.livepatches.filter((l) => l.enabled).map((l) => l.name));
  const missing = host.kernelRelease
    ? patches
        .filter((p) => (p.targetReleases.length === 0 || p.targetReleases.includes(host.kernelRelease)) && !liveNames.has(livepatchModuleName(p.id)))
        .map((p) => ({ patchId: p.id, title: p.title, cves: p.cves, severity: p.severity, verdict: p.verdict.replace(/_/g, "-") }))
    : [];
  const enabled = live.filter((l) => l.enabled).length;
  return {
    summary: `${host.kernelRelease || "unknown kernel"}${enabled ? ` + ${enabled} livepatch${enabled === 1 ? "" : "es"}` : ""}`,
    livepatches: live,
    missing,
  };
}

const SEVERITY_RANK: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** Per CVE and host: whether none of the patches fixing that CVE (and targeting the host) is live on it. */
const HOST_CVE = Prisma.sql`
  select c.cve, h.id as "hostId", h."kernelRelease",
    bool_and(not h.livepatches @> jsonb_build_array(jsonb_build_object('name', ${MODULE}, 'enabled', true))) as exposed
  from "Patch" p cross join lateral unnest(p.cves) as c(cve)
  join "Host" h on h.status = 'active' and h."kernelRelease" <> '' and ${TARGETED}
  group by c.cve, h.id, h."kernelRelease"`;

/**
 * For every CVE of a staged patch: how many active hosts it targets are still exposed (the patch
 * is not live on them), by kernel release and by group. A CVE fixed by several patches counts a
 * host as exposed while none of them is live there. Aggregated in SQL: the fleet overview asks
 * for this whenever hosts change, and CVEs × hosts is too many rows to count in JavaScript.
 */
export async function exposure(opts: { limit: number }): Promise<Exposure> {
  const [byRelease, cves, totals, groups] = await Promise.all([
    prisma.$queryRaw<{ cve: string; kernelRelease: string; targeted: number; exposed: number }[]>`
      with hc as (${HOST_CVE})
      select cve, "kernelRelease", count(*)::int as targeted, count(*) filter (where exposed)::int as exposed from hc group by 1, 2`,
    prisma.$queryRaw<{ cve: string; patches: { id: string; title: string; severity: string }[] }[]>`
      select c.cve, jsonb_agg(jsonb_build_object('id', p.id, 'title', p.title, 'severity', p.severity) order by p."createdAt") as patches
      from "Patch" p cross join lateral unnest(p.cves) as c(cve) group by c.cve`,
    prisma.$queryRaw<{ exposedHosts: number; activeHosts: number }[]>`
      with hc as (${HOST_CVE})
      select (select count(distinct "hostId") from hc where exposed)::int as "exposedHosts",
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
        byRelease: releases
          .map(({ kernelRelease, targeted, exposed }) => ({ kernelRelease, targeted, exposed }))
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
  return { items: items.slice(0, opts.limit), exposedHosts: totals[0]?.exposedHosts ?? 0, activeHosts: totals[0]?.activeHosts ?? 0 };
}
