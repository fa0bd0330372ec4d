import "server-only";
import { BUILD_STATUS, GroupSelectorSchema, type Group, type GroupCreate, type GroupPatchStatus, type GroupPreview, type GroupSelector } from "@/lib/api/schemas";
import { createdBy, type Actor } from "@/lib/audit/actor";
import { appendAudit } from "@/lib/audit/append";
import { moduleNameSqlText } from "@/lib/livepatch/module-name";
import { prisma } from "@/lib/db/client";
import { ConflictError, NotFoundError } from "@/lib/errors";
import { Prisma } from "@/lib/generated/prisma/client";
import { memberSql } from "./selector";
import { liveOnHost, sqlList, sqlName } from "@/lib/db/sql-names";
import { ACTIVE_ROLLOUT_STATUSES } from "@/lib/api/schemas";
import { notify } from "@/lib/db/bus";

type GroupRow = { id: string; name: string; description: string; selector: unknown; reloadAtBoot: boolean; createdByName: string; createdAt: Date };

const MODULE = Prisma.raw(moduleNameSqlText("p.id"));

/** Parses a stored selector; one stored by an older version that no longer validates matches nothing. */
export function storedSelector(json: unknown): GroupSelector {
  const r = GroupSelectorSchema.safeParse(json);
  return r.success ? r.data : { hostIds: [] as string[] } as GroupSelector;
}

async function groupStats(row: GroupRow): Promise<Group> {
  const where = memberSql(storedSelector(row.selector));
  const [counts, releases, patches] = await Promise.all([
    prisma.$queryRaw<{ members: number; online: number }[]>`
      select count(*)::int as members, count(*) filter (where h.online)::int as online from "Host" h where ${where}`,
    prisma.$queryRaw<{ kernelRelease: string; hosts: number }[]>`
      select h."kernelRelease", count(*)::int as hosts from "Host" h where ${where} and h."kernelRelease" <> ''
      group by 1 order by 2 desc, 1`,
    prisma.$queryRaw<{ id: string; title: string; cves: string[]; severity: string; verdict: string; targeted: number; applied: number; active: string | null; anyBuilt: boolean }[]>`
      with m as (select h."kernelRelease", h.livepatches from "Host" h where ${where})
      select p.id::text, p.title, p.cves, p.severity::text, p.verdict::text,
        count(*) filter (where t.targeted)::int as targeted,
        count(*) filter (where t.targeted and ${liveOnHost(MODULE, "m")})::int as applied,
        (select r.id::text from "Rollout" r where r."patchId" = p.id and r."groupId" = ${row.id}::uuid and r.kind = 'apply'
           and r.status in ${sqlList(ACTIVE_ROLLOUT_STATUSES)} order by r."createdAt" desc limit 1) as active,
        exists (select 1 from "Build" b where b."patchId" = p.id and b.status = ${sqlName(BUILD_STATUS.succeeded)}) as "anyBuilt"
      from "Patch" p
      join m on true
      cross join lateral (select cardinality(p."targetReleases") = 0 or m."kernelRelease" = any(p."targetReleases") as targeted) t
      where p."withdrawnAt" is null
      group by p.id
      having count(*) filter (where t.targeted) > 0
      order by p."createdAt" desc`,
  ]);
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    selector: storedSelector(row.selector),
    reloadAtBoot: row.reloadAtBoot,
    createdBy: row.createdByName,
    createdAt: row.createdAt.toISOString(),
    memberCount: counts[0]?.members ?? 0,
    onlineCount: counts[0]?.online ?? 0,
    kernelReleases: releases,
    patches: patches.map(
      (p): GroupPatchStatus => ({
        patchId: p.id,
        title: p.title,
        cves: p.cves,
        severity: p.severity as GroupPatchStatus["severity"],
        verdict: p.verdict.replace(/_/g, "-") as GroupPatchStatus["verdict"],
        targeted: p.targeted,
        applied: p.applied,
        missing: p.targeted - p.applied,
        activeRolloutId: p.active,
        anyBuilt: p.anyBuilt,
      }),
    ),
  };
}

const rowSelect = { id: true, name: true, description: true, selector: true, reloadAtBoot: true, createdByName: true, createdAt: true } as const;

export async function listGroups(): Promise<Group[]> {
  const rows = await prisma.group.findMany({ orderBy: { name: "asc" }, select: rowSelect });
  return Promise.all(rows.map(groupStats));
}

export async function getGroup(id: string): Promise<Group> {
  const row = await prisma.group.findUnique({ where: { id }, select: rowSelect });
  if (!row) throw new NotFoundError("group");
  return groupStats(row);
}

/**
 * Of these hosts (or all), those whose agents must not load kept patches after a reboot: members
 * of any group that turns it off. One query per such group; usually there are few.
 */
export async function reloadOffAmong(hostIds?: readonly string[]): Promise<Set<string>> {
  const off = await prisma.group.findMany({ where: { reloadAtBoot: false }, select: { selector: true } });
  const out = new Set<string>();
  for (const g of off) {
    const rows = await prisma.$queryRaw<{ id: string }[]>`
      select h.id::text from "Host" h where ${memberSql(storedSelector(g.selector))} ${hostIds ? Prisma.sql`and h.id = any(${[...hostIds]}::uuid[])` : Prisma.empty}`;
    for (const r of rows) out.add(r.id);
  }
  return out;
}

/** Member host ids of a group, now. */
export async function groupMemberIds(selector: GroupSelector): Promise<string[]> {
  const rows = await prisma.$queryRaw<{ id: string }[]>`select h.id::text from "Host" h where ${memberSql(selector)}`;
  return rows.map((r) => r.id);
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002";
}

export async function createGroup(opts: { actor: Actor; input: GroupCreate }): Promise<Group> {
  const { actor, input } = opts;
  try {
    const row = await prisma.$transaction(async (tx) => {
      const g = await tx.group.create({
        data: {
          name: input.name,
          description: input.description,
          selector: input.selector as Prisma.InputJsonObject,
          reloadAtBoot: input.reloadAtBoot,
          ...createdBy(actor),
        },
        select: rowSelect,
      });
      await appendAudit(tx, { actor, action: "group.created", target: { type: "group", id: g.id }, details: { name: g.name, selector: input.selector, reloadAtBoot: g.reloadAtBoot } });
      await notify(tx, { type: "agents.config_changed" });
      return g;
    });
    return groupStats(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw new ConflictError(`a group named "${input.name}" already exists`, "name_taken");
    throw err;
  }
}

export async function updateGroup(opts: { actor: Actor; id: string; input: Partial<GroupCreate> }): Promise<Group> {
  const { actor, id, input } = opts;
  try {
    const row = await prisma.$transaction(async (tx) => {
      const before = await tx.group.findUnique({ where: { id }, select: rowSelect });
      if (!before) throw new NotFoundError("group");
      const g = await tx.group.update({
        where: { id },
        data: {
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.description !== undefined ? { description: input.description } : {}),
          ...(input.selector !== undefined ? { selector: input.selector as Prisma.InputJsonObject } : {}),
          ...(input.reloadAtBoot !== undefined ? { reloadAtBoot: input.reloadAtBoot } : {}),
        },
        select: rowSelect,
      });
      await notify(tx, { type: "agents.config_changed" });
      await appendAudit(tx, {
        actor,
        action: "group.updated",
        target: { type: "group", id },
        details: { name: g.name, ...(input.name !== undefined && input.name !== before.name ? { previousName: before.name } : {}), ...(input.selector ? { selector: input.selector, previousSelector: before.selector } : {}), ...(input.reloadAtBoot !== undefined && input.reloadAtBoot !== before.reloadAtBoot ? { reloadAtBoot: input.reloadAtBoot } : {}) },
      });
      return g;
    });
    return groupStats(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw new ConflictError(`a group named "${input.name}" already exists`, "name_taken");
    throw err;
  }
}

export async function deleteGroup(opts: { actor: Actor; id: string }): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const g = await tx.group.findUnique({ where: { id: opts.id }, select: { name: true } });
    if (!g) throw new NotFoundError("group");
    const active = await tx.rollout.count({ where: { groupId: opts.id, status: { in: [...ACTIVE_ROLLOUT_STATUSES] } } });
    if (active > 0) throw new ConflictError(`group "${g.name}" has a rollout in progress; finish or abort it first`, "group_busy");
    await tx.group.delete({ where: { id: opts.id } });
    await appendAudit(tx, { actor: opts.actor, action: "group.deleted", target: { type: "group", id: opts.id }, details: { name: g.name } });
    await notify(tx, { type: "agents.config_changed" });
  });
}

/** Who a selector would hold now, before it is saved. */
export async function previewSelector(selector: GroupSelector): Promise<GroupPreview> {
  const where = memberSql(selector);
  const [counts, kernelReleases, sample] = await Promise.all([
    prisma.$queryRaw<{ members: number; online: number }[]>`
      select count(*)::int as members, count(*) filter (where h.online)::int as online from "Host" h where ${where}`,
    prisma.$queryRaw<{ kernelRelease: string; hosts: number }[]>`
      select h."kernelRelease", count(*)::int as hosts from "Host" h where ${where} and h."kernelRelease" <> '' group by 1 order by 2 desc, 1`,
    prisma.$queryRaw<{ id: string; hostname: string }[]>`select h.id::text, h.hostname from "Host" h where ${where} order by h.hostname limit 20`,
  ]);
  return { memberCount: counts[0]?.members ?? 0, onlineCount: counts[0]?.online ?? 0, kernelReleases, sample };
}
