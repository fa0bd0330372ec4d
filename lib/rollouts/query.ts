import "server-only";
import {
  resolveCount, RolloutStrategySchema, type RolloutDetail, type RolloutHost, type RolloutHostDetail, type RolloutHostState,
  type RolloutListItem, type RolloutStrategy, type RolloutSummary, RolloutHostsQuerySchema, RolloutListQuerySchema,
} from "@/lib/api/schemas";
import { livepatchModuleName } from "@/lib/livepatch/module-name";
import { prisma } from "@/lib/db/client";
import { NotFoundError } from "@/lib/errors";
import { Prisma } from "@/lib/generated/prisma/client";
import type { z } from "zod";
import { failuresOf, FINAL_HOST_STATES, HOST_STATE_READ_ORDER, isIn, type StateCounts } from "./states";
import { sqlPosition } from "@/lib/db/sql-names";

const summarySelect = {
  id: true, number: true, kind: true, status: true, pauseKind: true, pauseReason: true, strategy: true, hostCount: true, currentWave: true,
  waveCount: true, nextWaveAt: true, createdByName: true, createdAt: true, finishedAt: true, groupId: true, groupName: true, rollbackOfId: true,
  failuresAccepted: true,
  patch: { select: { id: true, title: true, cves: true } },
  rollback: { select: { id: true } },
} as const satisfies Prisma.RolloutSelect;
type SummaryRow = Prisma.RolloutGetPayload<{ select: typeof summarySelect }>;

export function storedStrategy(json: unknown): RolloutStrategy {
  return RolloutStrategySchema.parse(json);
}


function toSummary(r: SummaryRow, counts: StateCounts): RolloutSummary {
  const strategy = storedStrategy(r.strategy);
  return {
    id: r.id,
    number: r.number,
    kind: r.kind,
    status: r.status,
    pauseKind: r.pauseKind as RolloutSummary["pauseKind"],
    pauseReason: r.pauseReason,
    patch: { id: r.patch.id, title: r.patch.title, cves: r.patch.cves, moduleName: livepatchModuleName(r.patch.id) },
    group: { id: r.groupId, name: r.groupName },
    rollbackOfId: r.rollbackOfId,
    rollbackId: r.rollback?.id ?? null,
    strategy,
    hostCount: r.hostCount,
    counts,
    failures: failuresOf(counts),
    failureBudget: resolveCount(strategy.failureBudget, r.hostCount) + r.failuresAccepted,
    currentWave: r.currentWave,
    waveCount: r.waveCount,
    nextWaveAt: r.nextWaveAt?.toISOString() ?? null,
    createdBy: r.createdByName,
    createdAt: r.createdAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
  };
}

async function countsByRollout(ids: string[]): Promise<Map<string, StateCounts>> {
  const out = new Map<string, StateCounts>(ids.map((id) => [id, {}]));
  if (ids.length === 0) return out;
  const rows = await prisma.$queryRaw<{ rolloutId: string; state: RolloutHostState; n: number }[]>`
    select "rolloutId"::text, state::text, count(*)::int as n from "RolloutHost" where "rolloutId" = any(${ids}::uuid[]) group by 1, 2`;
  for (const r of rows) out.get(r.rolloutId)![r.state] = r.n;
  return out;
}

export async function getRolloutSummary(id: string): Promise<RolloutSummary> {
  const r = await prisma.rollout.findUnique({ where: { id }, select: summarySelect });
  if (!r) throw new NotFoundError("rollout");
  return toSummary(r, (await countsByRollout([id])).get(id)!);
}

export async function listRollouts(q: z.infer<typeof RolloutListQuerySchema>): Promise<{ items: RolloutListItem[]; total: number }> {
  const where: Prisma.RolloutWhereInput = {
    ...(q.status ? { status: { in: q.status } } : {}),
    ...(q.patchId ? { patchId: q.patchId } : {}),
    ...(q.groupId ? { groupId: q.groupId } : {}),
    ...(q.hostId ? { hosts: { some: { hostId: q.hostId } } } : {}),
  };
  const [rows, total] = await Promise.all([
    prisma.rollout.findMany({ where, orderBy: { number: "desc" }, skip: q.offset, take: q.limit, select: summarySelect }),
    prisma.rollout.count({ where }),
  ]);
  const counts = await countsByRollout(rows.map((r) => r.id));
  const results = q.hostId
    ? new Map(
        (await prisma.rolloutHost.findMany({ where: { hostId: q.hostId, rolloutId: { in: rows.map((r) => r.id) } }, select: { rolloutId: true, state: true, error: true } })).map(
          (h) => [h.rolloutId, { state: h.state, error: h.error }],
        ),
      )
    : null;
  return { items: rows.map((r) => ({ ...toSummary(r, counts.get(r.id)!), ...(results?.has(r.id) ? { hostResult: results.get(r.id) } : {}) })), total };
}

type HostRow = { hostId: string; hostname: string; kernelRelease: string; wave: number | null; state: RolloutHostState; error: string | null; dispatchedAt: Date | null; finishedAt: Date | null };

function toHost(h: HostRow): RolloutHost {
  return {
    hostId: h.hostId,
    hostname: h.hostname,
    kernelRelease: h.kernelRelease,
    wave: h.wave,
    state: h.state,
    error: h.error,
    startedAt: h.dispatchedAt?.toISOString() ?? null,
    finishedAt: h.finishedAt?.toISOString() ?? null,
  };
}

const hostSelect = { hostId: true, hostname: true, kernelRelease: true, wave: true, state: true, error: true, dispatchedAt: true, finishedAt: true } as const;

// Hosts in the order an operator wants them: problems first, then in flight, then the rest.
const STATE_ORDER = sqlPosition(HOST_STATE_READ_ORDER, Prisma.sql`state::text`);

export async function getRolloutDetail(id: string, opts: { states?: RolloutHostState[]; hosts: "all" | "none" }): Promise<RolloutDetail> {
  const summary = await getRolloutSummary(id);
  const waves = await prisma.$queryRaw<{ wave: number; state: RolloutHostState; n: number }[]>`
    select wave, state::text, count(*)::int as n from "RolloutHost" where "rolloutId" = ${id}::uuid and wave is not null group by 1, 2 order by 1`;
  const byWave = new Map<number, { index: number; hosts: number; counts: StateCounts }>();
  for (let i = 0; i < summary.waveCount; i++) byWave.set(i, { index: i, hosts: 0, counts: {} });
  for (const w of waves) {
    const entry = byWave.get(w.wave) ?? { index: w.wave, hosts: 0, counts: {} };
    entry.hosts += w.n;
    entry.counts[w.state] = w.n;
    byWave.set(w.wave, entry);
  }
  const hosts =
    opts.hosts === "none"
      ? []
      : await prisma.rolloutHost.findMany({
          where: { rolloutId: id, ...(opts.states ? { state: { in: opts.states } } : {}) },
          orderBy: [{ wave: { sort: "asc", nulls: "last" } }, { hostname: "asc" }],
          select: hostSelect,
        });
  return { ...summary, waves: [...byWave.values()].sort((a, b) => a.index - b.index), hosts: hosts.map(toHost) };
}

export async function listRolloutHosts(id: string, q: z.infer<typeof RolloutHostsQuerySchema>): Promise<{ items: RolloutHost[]; total: number }> {
  if (!(await prisma.rollout.findUnique({ where: { id }, select: { id: true } }))) throw new NotFoundError("rollout");
  const conds: Prisma.Sql[] = [Prisma.sql`"rolloutId" = ${id}::uuid`];
  if (q.state) conds.push(Prisma.sql`state::text = any(${q.state}::text[])`);
  if (q.wave !== undefined) conds.push(Prisma.sql`wave = ${q.wave}`);
  if (q.q) conds.push(Prisma.sql`(hostname ilike ${`%${q.q}%`} or "kernelRelease" ilike ${`%${q.q}%`} or error ilike ${`%${q.q}%`})`);
  const where = Prisma.join(conds, " and ");
  const [rows, total] = await Promise.all([
    prisma.$queryRaw<HostRow[]>`
      select "hostId"::text, hostname, "kernelRelease", wave, state::text, error, "dispatchedAt", "finishedAt" from "RolloutHost"
      where ${where} order by ${STATE_ORDER}, wave nulls last, hostname offset ${q.offset} limit ${q.limit}`,
    prisma.$queryRaw<{ n: number }[]>`select count(*)::int as n from "RolloutHost" where ${where}`,
  ]);
  return { items: rows.map(toHost), total: total[0]?.n ?? 0 };
}

export async function getRolloutHost(id: string, hostId: string): Promise<RolloutHostDetail> {
  const h = await prisma.rolloutHost.findUnique({
    where: { rolloutId_hostId: { rolloutId: id, hostId } },
    select: { ...hostSelect, log: true, blockingTasks: true, deadlineAt: true },
  });
  if (!h) throw new NotFoundError("host in this rollout");
  return {
    ...toHost(h),
    log: h.log,
    blockingTasks: (h.blockingTasks as RolloutHostDetail["blockingTasks"]) ?? null,
    dispatchedAt: h.dispatchedAt?.toISOString() ?? null,
    deadlineAt: isIn(FINAL_HOST_STATES, h.state) ? null : (h.deadlineAt?.toISOString() ?? null),
  };
}
