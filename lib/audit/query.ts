import "server-only";
import type { AuditEvent, AuditQuery } from "@/lib/api/schemas";
import { prisma } from "@/lib/db/client";
import type { Prisma } from "@/lib/generated/prisma/client";

async function where(q: Omit<AuditQuery, "limit" | "before">): Promise<Prisma.AuditEventWhereInput> {
  // "Who patched this host": its own events and those of every rollout that included it.
  const host = q.host
    ? { OR: [{ targetType: "host", targetId: q.host }, { targetType: "rollout", targetId: { in: (await prisma.rolloutHost.findMany({ where: { hostId: q.host }, select: { rolloutId: true } })).map((r) => r.rolloutId) } }] }
    : {};
  return {
    ...host,
    ...(q.actor ? { actorName: { contains: q.actor, mode: "insensitive" } } : {}),
    ...(q.action ? { action: q.action.endsWith("*") ? { startsWith: q.action.slice(0, -1) } : q.action } : {}),
    ...(q.targetType ? { targetType: q.targetType } : {}),
    ...(q.targetId ? { targetId: q.targetId } : {}),
    ...(q.from || q.to ? { at: { ...(q.from ? { gte: q.from } : {}), ...(q.to ? { lte: q.to } : {}) } } : {}),
  };
}

type Row = Prisma.AuditEventGetPayload<object>;

export function toAuditEvent(r: Row): AuditEvent {
  return {
    seq: r.seq.toString(),
    at: r.at.toISOString(),
    actorType: r.actorType,
    actorId: r.actorId,
    actorName: r.actorName,
    action: r.action,
    targetType: r.targetType,
    targetId: r.targetId,
    details: (r.details ?? {}) as Record<string, unknown>,
    sourceIp: r.sourceIp,
    hash: r.hash,
  };
}

/** Newest first, keyset-paginated on seq (stable while events are appended). */
export async function listAuditEvents(q: AuditQuery): Promise<{ items: AuditEvent[]; nextBefore: string | null }> {
  const rows = await prisma.auditEvent.findMany({
    where: { ...(await where(q)), ...(q.before !== undefined ? { seq: { lt: q.before } } : {}) },
    orderBy: { seq: "desc" },
    take: q.limit + 1,
  });
  const more = rows.length > q.limit;
  const items = rows.slice(0, q.limit).map(toAuditEvent);
  return { items, nextBefore: more ? items[items.length - 1].seq : null };
}

/** Streams every matching event (oldest first) in pages, for CSV export. */
export async function* iterateAuditEvents(q: Omit<AuditQuery, "limit" | "before">): AsyncGenerator<AuditEvent> {
  let after = -1n;
  const w = await where(q);
  for (;;) {
    const rows = await prisma.auditEvent.findMany({ where: { ...w, seq: { gt: after } }, orderBy: { seq: "asc" }, take: 1000 });
    if (rows.length === 0) return;
    for (const r of rows) yield toAuditEvent(r);
    after = rows[rows.length - 1].seq;
  }
}

const CSV_COLUMNS = ["seq", "at", "actorType", "actorName", "actorId", "action", "targetType", "targetId", "sourceIp", "details", "hash"] as const;

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v);
  // Quote always-needed cases, and neutralise spreadsheet formulas (CSV injection).
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) || safe !== s ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function auditCsvHeader(): string {
  return CSV_COLUMNS.join(",") + "\n";
}

export function auditCsvRow(e: AuditEvent): string {
  return CSV_COLUMNS.map((c) => csvCell(e[c])).join(",") + "\n";
}
