import "server-only";
import type { Tx } from "@/lib/db/client";
import type { Prisma } from "@/lib/generated/prisma/client";
import { notify } from "@/lib/realtime/bus";
import type { AuditActor } from "./actor";
import { eventHash, GENESIS_HASH } from "./chain";

// Serialises appends so that each event chains onto exactly one predecessor. Any fixed number.
const AUDIT_CHAIN_LOCK = 4_242_001;

export interface AuditInput {
  actor: AuditActor;
  action: string;
  target?: { type: string; id: string } | null;
  details?: Record<string, unknown>;
}

/**
 * Appends one event to the audit log inside the caller's transaction, so the event exists if
 * and only if the change it describes commits.
 */
export async function appendAudit(tx: Tx, input: AuditInput): Promise<{ seq: bigint; hash: string }> {
  await tx.$executeRaw`select pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`;
  const last = await tx.auditEvent.findFirst({ orderBy: { seq: "desc" }, select: { hash: true } });
  const prevHash = last?.hash ?? GENESIS_HASH;
  const fields = {
    at: new Date(),
    actorType: input.actor.type,
    actorId: input.actor.id ?? null,
    actorName: input.actor.name,
    action: input.action,
    targetType: input.target?.type ?? null,
    targetId: input.target?.id ?? null,
    details: JSON.parse(JSON.stringify(input.details ?? {})) as Prisma.InputJsonObject,
    sourceIp: input.actor.ip ?? null,
  };
  const hash = eventHash(prevHash, fields);
  const row = await tx.auditEvent.create({ data: { ...fields, prevHash, hash }, select: { seq: true } });
  await notify(tx, { type: "audit.appended", seq: row.seq.toString() });
  return { seq: row.seq, hash };
}
