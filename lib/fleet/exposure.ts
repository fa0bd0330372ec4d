import "server-only";
import type { Livepatch } from "@/agent/protocol";
import type { EffectiveKernel, Exposure, ExposureItem } from "@/lib/api/schemas";
import { livepatchModuleName, moduleNameSqlText } from "@/lib/builds/builders/module-name";
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

/**
 * For every CVE of a staged patch: how many active hosts it targets are still exposed (the patch
 * is not live on them), by kernel release and by group. A CVE fixed by several patches counts a
 * host as exposed while none of them is live there.
 */
export async function exposure(opts: { limit: number }): Promise<Exposure> {
  const rows = await prisma.$queryRaw<{ cve: string; severity: string; hostId: string; kernelRelease: string; patchIds: string[]; exposed: boolean }[]>`
    select c.cve, max(p.severity::text) as severity, h.id::text as "hostId", h."kernelRelease",
      array_agg(distinct p.id::text) as "patchIds",
      bool_and(not h.livepatches @> jsonb_build_array(jsonb_build_object('name', ${MODULE}, 'enabled', true))) as exposed
    from "Patch" p cross join lateral unnest(p.cves) as c(cve)
    join "Host" h on h.status = 'active' and h."kernelRelease" <> '' and ${TARGETED}
    group by c.cve, h.id`;
  const patches = new Map((await prisma.patch.findMany({ select: { id: true, title: true, severity: true } })).map((p) => [p.id, p]));
  const groups = await prisma.group.findMany({ select: { id: true, name: true, selector: true }, orderBy: { name: "asc" } });
  const members = new Map<string, Set<string>>();
  for (const g of groups) {
    const ids = await prisma.$queryRaw<{ id: string }[]>`select h.id::text from "Host" h where ${memberSql(storedSelector(g.selector))}`;
    members.set(g.id, new Set(ids.map((r) => r.id)));
  }
  const byCve = new Map<string, typeof rows>();
  for (const r of rows) byCve.set(r.cve, [...(byCve.get(r.cve) ?? []), r]);
  const exposedHosts = new Set<string>();
  const items: ExposureItem[] = [...byCve].map(([cve, list]) => {
    const releases = new Map<string, { targeted: number; exposed: number }>();
    const patchIds = new Set<string>();
    let exposed = 0;
    for (const r of list) {
      const e = releases.get(r.kernelRelease) ?? { targeted: 0, exposed: 0 };
      e.targeted++;
      if (r.exposed) {
        e.exposed++;
        exposed++;
        exposedHosts.add(r.hostId);
      }
      releases.set(r.kernelRelease, e);
      r.patchIds.forEach((id) => patchIds.add(id));
    }
    const severities = [...patchIds].map((id) => patches.get(id)?.severity ?? "low").sort((a, b) => SEVERITY_RANK[a] - SEVERITY_RANK[b]);
    return {
      cve,
      severity: severities[0] as ExposureItem["severity"],
      patches: [...patchIds].map((id) => ({ id, title: patches.get(id)?.title ?? id })),
      targeted: list.length,
      exposed,
      byRelease: [...releases].map(([kernelRelease, v]) => ({ kernelRelease, ...v })).sort((a, b) => b.exposed - a.exposed || a.kernelRelease.localeCompare(b.kernelRelease)),
      byGroup: groups
        .map((g) => {
          const m = members.get(g.id)!;
          const inGroup = list.filter((r) => m.has(r.hostId));
          return { groupId: g.id, name: g.name, targeted: inGroup.length, exposed: inGroup.filter((r) => r.exposed).length };
        })
        .filter((g) => g.targeted > 0),
    };
  });
  items.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || b.exposed - a.exposed || a.cve.localeCompare(b.cve));
  const [{ n }] = await prisma.$queryRaw<{ n: number }[]>`select count(*)::int as n from "Host" where status = 'active'`;
  return { items: items.slice(0, opts.limit), exposedHosts: exposedHosts.size, activeHosts: n };
}
