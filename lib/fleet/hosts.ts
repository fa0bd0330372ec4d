import "server-only";
import { z } from "zod";
import type { Host, HostDetail, HostEvent, HostListQuery, Labels } from "@/lib/api/schemas";
import type { Livepatch } from "@/agent/protocol";
import type { Actor } from "@/lib/audit/actor";
import { appendAudit } from "@/lib/audit/append";
import { prisma } from "@/lib/db/client";
import { BadRequestError, ConflictError, NotFoundError } from "@/lib/errors";
import type { Prisma } from "@/lib/generated/prisma/client";
import { notify } from "@/lib/db/bus";
import { groupMemberIds, storedSelector } from "@/lib/groups/groups";
import { effectiveKernel, hostsMissingPatch } from "./exposure";
import { ReloadReportSchema } from "@/agent/protocol";
import { desiredOf, driftOf, HOST_DRIFTS } from "@/lib/rollouts/desired";

export const hostSelect = {
  id: true, hostname: true, machineId: true, bootId: true, kernelRelease: true, kernelVersion: true,
  distroId: true, distroName: true, distroVersion: true, arch: true, uptimeSec: true, cpuCount: true,
  memoryBytes: true, agentVersion: true, status: true, online: true, lastSeenAt: true, connectedAt: true,
  enrolledAt: true, lastIp: true, labels: true, livepatches: true,
  duplicateOf: { select: { id: true, hostname: true, status: true } },
  mergedInto: { select: { id: true, hostname: true } },
} as const satisfies Prisma.HostSelect;
type HostRow = Prisma.HostGetPayload<{ select: typeof hostSelect }>;

export function toHost(h: HostRow, drifting = false): Host {
  return {
    id: h.id,
    hostname: h.hostname,
    machineId: h.machineId,
    bootId: h.bootId,
    kernelRelease: h.kernelRelease,
    kernelVersion: h.kernelVersion,
    distro: { id: h.distroId, name: h.distroName, version: h.distroVersion },
    arch: h.arch,
    uptimeSec: h.uptimeSec,
    cpuCount: h.cpuCount,
    memoryBytes: Number(h.memoryBytes),
    agentVersion: h.agentVersion,
    status: h.status,
    online: h.online,
    lastSeenAt: h.lastSeenAt?.toISOString() ?? null,
    connectedAt: h.connectedAt?.toISOString() ?? null,
    enrolledAt: h.enrolledAt.toISOString(),
    lastIp: h.lastIp,
    labels: (h.labels ?? {}) as Record<string, string>,
    livepatches: (h.livepatches ?? []) as Livepatch[],
    duplicateOf: h.duplicateOf,
    mergedInto: h.mergedInto,
    drifting,
  };
}

/** The host with its drift flag, read after a change committed. */
async function withDrifting(host: Host): Promise<Host> {
  return { ...host, drifting: (await driftingAmong([host.id])).has(host.id) };
}

/** Of these hosts, the ones whose live patches differ from what their rollouts applied. */
async function driftingAmong(ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await prisma.$queryRaw<{ id: string }[]>`select h.id::text from "Host" h where h.id = any(${ids}::uuid[]) and ${HOST_DRIFTS}`;
  return new Set(rows.map((r) => r.id));
}

/** Parses `key=value` (or a bare `key`, meaning "has this label") from a filter parameter. */
export function parseLabelFilter(s: string): { key: string; value?: string } {
  const eq = s.indexOf("=");
  const key = (eq < 0 ? s : s.slice(0, eq)).trim();
  if (!key) throw new BadRequestError(`label filter "${s}" needs a key, as key=value`);
  return eq < 0 ? { key } : { key, value: s.slice(eq + 1).trim() };
}

async function listWhere(q: HostListQuery): Promise<Prisma.HostWhereInput> {
  const and: Prisma.HostWhereInput[] = [];
  if (q.group) {
    const g = await prisma.group.findUnique({ where: { id: q.group }, select: { selector: true } });
    if (!g) throw new NotFoundError("group");
    and.push({ id: { in: await groupMemberIds(storedSelector(g.selector)) } });
  }
  if (q.missing) and.push({ id: { in: await hostsMissingPatch(q.missing) } });
  if (q.drifting !== undefined) {
    const ids = (await prisma.$queryRaw<{ id: string }[]>`select h.id::text from "Host" h where h.status = 'active' and ${HOST_DRIFTS}`).map((r) => r.id);
    and.push(q.drifting ? { id: { in: ids } } : { id: { notIn: ids } });
  }
  // Decommissioned hosts leave the default views; ask for them by status.
  and.push(q.status ? { status: q.status } : { status: { not: "decommissioned" } });
  if (q.q) {
    const term = q.q;
    and.push({
      OR: [
        { hostname: { contains: term, mode: "insensitive" } },
        { kernelRelease: { contains: term, mode: "insensitive" } },
        { distroName: { contains: term, mode: "insensitive" } },
        { machineId: { startsWith: term.toLowerCase() } },
        { lastIp: { startsWith: term } },
        // Only a real UUID is compared with the id column: Postgres refuses anything else (e.g. 36 dashes).
        ...(z.guid().safeParse(term).success ? [{ id: term }] : []),
      ],
    });
  }
  if (q.kernel) and.push({ kernelRelease: q.kernel });
  if (q.distro) and.push({ distroId: q.distro });
  if (q.online !== undefined) and.push({ online: q.online });
  for (const l of q.label ?? []) {
    const { key, value } = parseLabelFilter(l);
    // Label values are always strings, so "starts with the empty string" means "has the key".
    and.push({ labels: value === undefined ? { path: [key], string_starts_with: "" } : { path: [key], equals: value } });
  }
  return { AND: and };
}

const ORDER: Record<HostListQuery["sort"], (o: "asc" | "desc") => Prisma.HostOrderByWithRelationInput[]> = {
  hostname: (o) => [{ hostname: o }, { id: o }],
  kernelRelease: (o) => [{ kernelRelease: o }, { hostname: "asc" }],
  distro: (o) => [{ distroName: o }, { hostname: "asc" }],
  lastSeenAt: (o) => [{ lastSeenAt: { sort: o, nulls: "last" } }, { hostname: "asc" }],
  online: (o) => [{ online: o }, { hostname: "asc" }],
  enrolledAt: (o) => [{ enrolledAt: o }, { hostname: "asc" }],
};

export async function listHosts(q: HostListQuery): Promise<{ items: Host[]; total: number }> {
  const where = await listWhere(q);
  const [rows, total] = await Promise.all([
    prisma.host.findMany({ where, orderBy: ORDER[q.sort](q.order), skip: q.offset, take: q.limit, select: hostSelect }),
    prisma.host.count({ where }),
  ]);
  const drifting = await driftingAmong(rows.map((r) => r.id));
  return { items: rows.map((r) => toHost(r, drifting.has(r.id))), total };
}

export async function getHost(id: string, opts: { events?: number } = {}): Promise<HostDetail> {
  const h = await prisma.host.findUnique({
    where: { id },
    select: { ...hostSelect, reloadReport: true, events: { orderBy: { id: "desc" }, take: opts.events ?? 200 } },
  });
  if (!h) throw new NotFoundError("host");
  const events: HostEvent[] = h.events.map((e) => ({ id: e.id.toString(), at: e.at.toISOString(), type: e.type as HostEvent["type"], details: e.details as Record<string, unknown> }));
  const [{ desired, open }, effective] = await Promise.all([desiredOf(prisma, { id: h.id, kernelRelease: h.kernelRelease }), effectiveKernel(toHost(h))]);
  const reload = ReloadReportSchema.nullable().catch(null).parse(h.reloadReport ?? null);
  // The staged patches of the modules live on the host: the effective kernel has looked them up.
  const patches = new Map(effective.livepatches.flatMap((l) => (l.patch ? [[l.name, l.patch] as const] : [])));
  const drift = driftOf({ host: { bootId: h.bootId, livepatches: (h.livepatches ?? []) as Livepatch[], reloadReport: reload }, desired, patches, open });
  return { ...toHost(h, drift.missing.length + drift.unexpected.length > 0), events, effective, drift: { ...drift, reload } };
}

export async function setHostLabels(opts: { actor: Actor; hostId: string; labels: Labels }): Promise<Host> {
  const host = await prisma.$transaction(async (tx) => {
    const before = await tx.host.findUnique({ where: { id: opts.hostId }, select: { labels: true, hostname: true } });
    if (!before) throw new NotFoundError("host");
    const prev = (before.labels ?? {}) as Record<string, string>;
    const added = Object.fromEntries(Object.entries(opts.labels).filter(([k, v]) => prev[k] !== v));
    const removed = Object.keys(prev).filter((k) => !(k in opts.labels));
    const h = await tx.host.update({ where: { id: opts.hostId }, data: { labels: opts.labels }, select: hostSelect });
    if (Object.keys(added).length || removed.length) {
      await tx.hostEvent.create({ data: { hostId: h.id, type: "labels_changed", details: { set: added, removed, by: opts.actor.name } } });
      await appendAudit(tx, { actor: opts.actor, action: "host.labels_updated", target: { type: "host", id: h.id }, details: { hostname: h.hostname, set: added, removed } });
      await notify(tx, { type: "hosts.changed", ids: [h.id] });
      // Labels decide group membership, and groups whether the agent reloads patches at boot.
      await notify(tx, { type: "agents.config_changed" });
    }
    return toHost(h);
  });
  return withDrifting(host);
}

export async function revokeHost(opts: { actor: Actor; hostId: string; reason: string; status: "revoked" | "decommissioned" }): Promise<Host> {
  const host = await prisma.$transaction(async (tx) => {
    const before = await tx.host.findUnique({ where: { id: opts.hostId }, select: { status: true } });
    if (!before) throw new NotFoundError("host");
    // Authentication refuses any host that is not active, so a revoked host keeps its credential
    // hash: an admin's restore then lets the real agent (which keeps its credential aside) prove
    // itself again. Decommissioning is final: the hash is destroyed.
    const h = await tx.host.update({
      where: { id: opts.hostId },
      data: { status: opts.status, online: false, ...(opts.status === "decommissioned" ? { credentialHash: `revoked:${crypto.randomUUID()}` } : {}) },
      select: hostSelect,
    });
    await tx.hostEvent.create({ data: { hostId: h.id, type: "revoked", details: { status: opts.status, reason: opts.reason, by: opts.actor.name } } });
    await appendAudit(tx, { actor: opts.actor, action: opts.status === "revoked" ? "host.revoked" : "host.decommissioned", target: { type: "host", id: h.id }, details: { hostname: h.hostname, reason: opts.reason, previousStatus: before.status } });
    await notify(tx, { type: "host.revoked", hostId: h.id, reason: opts.reason || opts.status });
    await notify(tx, { type: "hosts.changed", ids: [h.id] });
    return toHost(h);
  });
  return withDrifting(host);
}

/**
 * Restores a revoked host. Its credential hash was kept, so the real agent (which kept its refused
 * credential aside) gets back in by presenting it at its next enrollment, which rotates it.
 */
export async function restoreHost(opts: { actor: Actor; hostId: string; reason: string }): Promise<Host> {
  const host = await prisma.$transaction(async (tx) => {
    const [before] = await tx.$queryRaw<{ status: string; credentialHash: string }[]>`
      select status::text, "credentialHash" from "Host" where id = ${opts.hostId}::uuid for update`;
    if (!before) throw new NotFoundError("host");
    if (before.status !== "revoked") throw new ConflictError(`only a revoked host can be restored; this one is ${before.status}`, "not_revoked");
    const h = await tx.host.update({ where: { id: opts.hostId }, data: { status: "active" }, select: hostSelect });
    // Hosts revoked before credentials were kept have none left to prove: they must enroll anew.
    const credentialKept = /^[0-9a-f]{64}$/.test(before.credentialHash);
    await tx.hostEvent.create({ data: { hostId: h.id, type: "restored", details: { reason: opts.reason, by: opts.actor.name, credentialKept } } });
    await appendAudit(tx, { actor: opts.actor, action: "host.restored", target: { type: "host", id: h.id }, details: { hostname: h.hostname, reason: opts.reason, credentialKept } });
    await notify(tx, { type: "hosts.changed", ids: [h.id] });
    return toHost(h);
  });
  return withDrifting(host);
}

/**
 * Merges a possible duplicate into the host it duplicates: that host takes over the duplicate's
 * credential (so the agent that enrolled as the duplicate now speaks for it) and the duplicate is
 * decommissioned, pointing at the host it was merged into. The duplicate's agent is told it is
 * revoked, keeps its credential aside and re-enrolls with it, which yields the original host's id.
 */
export async function mergeDuplicateHost(opts: { actor: Actor; hostId: string; reason: string }): Promise<Host> {
  const host = await prisma.$transaction(async (tx) => {
    const dup = await tx.host.findUnique({ where: { id: opts.hostId }, select: { id: true, hostname: true, status: true, duplicateOfId: true, credentialHash: true } });
    if (!dup) throw new NotFoundError("host");
    if (!dup.duplicateOfId) throw new ConflictError("this host is not flagged as a possible duplicate", "not_duplicate");
    // Lock both rows in id order (no deadlock with a concurrent merge the other way round).
    await tx.$queryRaw`select id from "Host" where id in (${dup.id}::uuid, ${dup.duplicateOfId}::uuid) order by id for update`;
    const [d, original] = await Promise.all([
      tx.host.findUniqueOrThrow({ where: { id: dup.id }, select: { status: true, duplicateOfId: true, credentialHash: true, hostname: true } }),
      tx.host.findUnique({ where: { id: dup.duplicateOfId }, select: { id: true, hostname: true, status: true, credentialHash: true } }),
    ]);
    if (d.status !== "active" || d.duplicateOfId !== dup.duplicateOfId) throw new ConflictError(`this host is ${d.status}; only an active duplicate can be merged`, "not_active");
    if (!original) throw new NotFoundError("the host this one duplicates");
    if (original.status !== "active") {
      throw new ConflictError(`${original.hostname} is ${original.status}: an admin restores it first, or revoke this duplicate`, "original_not_active");
    }
    // The credential hash is unique: free it on the duplicate before the original takes it.
    await tx.host.update({ where: { id: dup.id }, data: { status: "decommissioned", online: false, mergedIntoId: original.id, credentialHash: `merged:${crypto.randomUUID()}` } });
    const h = await tx.host.update({ where: { id: original.id }, data: { credentialHash: d.credentialHash, hostname: d.hostname }, select: hostSelect });
    await tx.hostEvent.createMany({
      data: [
        { hostId: dup.id, type: "merged", details: { into: { id: original.id, hostname: original.hostname }, reason: opts.reason, by: opts.actor.name } },
        { hostId: original.id, type: "merged", details: { from: { id: dup.id, hostname: d.hostname }, reason: opts.reason, by: opts.actor.name } },
      ],
    });
    await appendAudit(tx, {
      actor: opts.actor,
      action: "host.merged",
      target: { type: "host", id: original.id },
      details: { hostname: original.hostname, duplicate: { id: dup.id, hostname: d.hostname }, reason: opts.reason },
    });
    // The original's previous agent (if any) loses its connection; the duplicate's agent is told
    // to stop using the duplicate's id and comes back through enrollment as the original.
    await notify(tx, { type: "host.credential_rotated", hostId: original.id });
    await notify(tx, { type: "host.revoked", hostId: dup.id, reason: `merged into ${original.hostname}; re-enroll with this credential` });
    await notify(tx, { type: "hosts.changed", ids: [dup.id, original.id] });
    return toHost(h);
  });
  return withDrifting(host);
}
