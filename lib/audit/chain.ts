import crypto from "node:crypto";

// The hash chain: each event's hash covers the previous hash and the event's own content, so
// changing, removing or reordering any event breaks every hash after it.
export const GENESIS_HASH = "0".repeat(64);

export interface ChainedFields {
  at: Date;
  actorType: string;
  actorId: string | null;
  actorName: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: unknown;
  sourceIp: string | null;
}

/** JSON with object keys sorted at every depth, so jsonb's key reordering does not matter. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

export function eventHash(prevHash: string, e: ChainedFields): string {
  const body = canonicalJson({
    at: e.at.toISOString(),
    actorType: e.actorType,
    actorId: e.actorId,
    actorName: e.actorName,
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId,
    details: e.details ?? {},
    sourceIp: e.sourceIp,
  });
  return crypto.createHash("sha256").update(prevHash).update("\n").update(body).digest("hex");
}
