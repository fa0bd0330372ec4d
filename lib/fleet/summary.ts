import "server-only";
import type { FleetSummary } from "@/lib/api/schemas";
import { prisma } from "@/lib/db/client";
import { getSettings } from "@/lib/settings/settings";
import { HOST_DRIFTS } from "@/lib/rollouts/desired";
import { rebootRequiredHosts } from "./exposure";
import { metrics } from "@/lib/metrics";

// Every open console tab refetches the summary when hosts change, and a fleet of thousands
// changes all the time: one computation serves all callers until the fleet changes (the bus
// bumps the version) or MAX_AGE_MS passes (the "stale" count moves with the clock alone).
const MAX_AGE_MS = 2000;
const g = globalThis as unknown as { __splicerFleetVersion?: number; __splicerSummary?: { version: number; at: number; value: Promise<FleetSummary> } };

/** Called for every fleet change seen on the bus, in every console process. */
export function bumpFleetVersion(): void {
  g.__splicerFleetVersion = (g.__splicerFleetVersion ?? 0) + 1;
}

/** Counts for the fleet overview, from a cache that any fleet change invalidates. */
export async function fleetSummary(): Promise<FleetSummary> {
  const version = g.__splicerFleetVersion ?? 0;
  const c = g.__splicerSummary;
  if (c && c.version === version && Date.now() - c.at < MAX_AGE_MS) return c.value;
  const value = computeFleetSummary();
  g.__splicerSummary = { version, at: Date.now(), value };
  value.catch(() => {
    if (g.__splicerSummary?.value === value) g.__splicerSummary = undefined;
  });
  return value;
}

/** A handful of aggregate queries, each one index or sequential scan of the hosts. */
export async function computeFleetSummary(): Promise<FleetSummary> {
  const { staleAfterSec } = await getSettings();
  const staleBefore = new Date(Date.now() - staleAfterSec * 1000);
  const [counts, kernels, distros, labels, staleHosts, drifting, rebootRequired] = await Promise.all([
    prisma.$queryRaw<{ total: bigint; online: bigint; stale: bigint; revoked: bigint }[]>`
      select count(*) filter (where status = 'active') as total,
             count(*) filter (where status = 'active' and online) as online,
             count(*) filter (where status = 'active' and not online and ("lastSeenAt" is null or "lastSeenAt" < ${staleBefore})) as stale,
             count(*) filter (where status = 'revoked') as revoked
      from "Host"`,
    prisma.$queryRaw<{ kernelRelease: string; count: bigint; online: bigint }[]>`
      select "kernelRelease", count(*) as count, count(*) filter (where online) as online
      from "Host" where status = 'active' group by 1 order by 2 desc, 1`,
    prisma.$queryRaw<{ id: string; name: string; count: bigint }[]>`
      select "distroId" as id, min("distroName") as name, count(*) as count
      from "Host" where status = 'active' group by 1 order by 3 desc, 1`,
    prisma.$queryRaw<{ key: string; value: string; count: bigint }[]>`
      select l.key, l.value, count(*) as count
      from "Host" h, jsonb_each_text(h.labels) l where h.status = 'active'
      group by 1, 2 order by 3 desc, 1, 2 limit 200`,
    prisma.host.findMany({
      where: { status: "active", online: false, OR: [{ lastSeenAt: null }, { lastSeenAt: { lt: staleBefore } }] },
      orderBy: { lastSeenAt: { sort: "asc", nulls: "first" } },
      take: 10,
      select: { id: true, hostname: true, kernelRelease: true, lastSeenAt: true },
    }),
    prisma.$queryRaw<{ n: number }[]>`select count(*)::int as n from "Host" h where h.status = 'active' and ${HOST_DRIFTS}`,
    rebootRequiredHosts(),
  ]);
  const c = counts[0];
  const total = Number(c.total);
  const online = Number(c.online);
  return {
    total,
    online,
    offline: total - online,
    stale: Number(c.stale),
    revoked: Number(c.revoked),
    staleAfterSec,
    drifting: drifting[0]?.n ?? 0,
    rebootRequired,
    kernels: kernels.map((k) => ({ kernelRelease: k.kernelRelease, count: Number(k.count), online: Number(k.online) })),
    distros: distros.map((d) => ({ id: d.id, name: d.name, count: Number(d.count) })),
    labels: labels.map((l) => ({ key: l.key, value: l.value, count: Number(l.count) })),
    staleHosts: staleHosts.map((h) => ({ ...h, lastSeenAt: h.lastSeenAt?.toISOString() ?? null })),
  };
}

/** The fleet's counts as gauges, for a /metrics scrape (from the same cache as the overview). */
export async function refreshFleetMetrics(): Promise<void> {
  const s = await fleetSummary();
  for (const [state, n] of Object.entries({ total: s.total, online: s.online, stale: s.stale, revoked: s.revoked, drifting: s.drifting, reboot_required: s.rebootRequired })) metrics.fleetHosts.set({ state }, n);
}
