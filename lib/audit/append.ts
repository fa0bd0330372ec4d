import "server-only";
import { dataDir } from "@/lib/config";
import type { Tx } from "@/lib/db/client";
import type { Prisma } from "@/lib/generated/prisma/client";
import type { AuditActor } from "./actor";
import { eventMac } from "./anchor";
import { loadAuditKey } from "./anchor-store";
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
 * and only if the change it describes commits. The chain's lock is held until that commit: call
 * this last in a transaction, after its other writes, to keep appends flowing.
 */
export async function appendAudit(tx: Tx, input: AuditInput): Promise<{ seq: bigint; hash: string }> {
  const [one] = await appendAuditMany(tx, [input]);
  return one;
}

/** Appends several events in order under one lock, one read of the chain's head and one insert. */
export async function appendAuditMany(tx: Tx, inputs: AuditInput[]): Promise<{ seq: bigint; hash: string }[]> {
  if (inputs.length === 0) return [];
  // Before the lock: the key is read from the data dir once per process, then cached.
  const key = await loadAuditKey({ dataDir: dataDir() });
  // The lock and the read of the chain's head must be separate statements: in READ COMMITTED each
  // statement takes its snapshot when it starts, so only a read issued after the lock is granted
  // sees the event committed by the previous holder.
  await tx.$executeRaw`select pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`;
  const last = await tx.auditEvent.findFirst({ orderBy: { seq: "desc" }, select: { hash: true } });
  let prevHash = last?.hash ?? GENESIS_HASH;
  const at = new Date();
  const rows = inputs.map((input) => {
    const fields = {
      at,
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
    const row = { ...fields, prevHash, hash, mac: eventMac(key, hash) };
    prevHash = hash;
    return row;
  });
  // Rows are inserted in array order, so seq follows the chain. The insert trigger (migration
  // 20261129000200) announces each event on the bus, which drives the checkpoint writer
  // (lib/audit/anchor-store.ts) after commit.
  const created = await tx.auditEvent.createManyAndReturn({ data: rows, select: { seq: true, hash: true } });
  return created.sort((a, b) => (a.seq < b.seq ? -1 : 1));
}
