import type { Role } from "@/lib/api/schemas";

/** Who did something: the subject of every audit event and every authorization check. */
export type Actor =
  | { type: "operator"; id: string; name: string; role: Role; ip?: string | null }
  | { type: "api_token"; id: string; name: string; role: Role; ip?: string | null }
  | { type: "agent"; id: string; name: string; ip?: string | null }
  | { type: "system"; name: string; ip?: null };

export const SYSTEM: Actor = { type: "system", name: "system" };

/** What the audit log records of an actor; a failed sign-in has a name but no proven identity. */
export interface AuditActor {
  type: Actor["type"];
  id?: string | null;
  name: string;
  ip?: string | null;
}

/** Who created a row, as stored with it: an operator's or API token's id (none for agents and the system), and a name. */
export function createdBy(actor: Actor): { createdById: string | null; createdByName: string } {
  return { createdById: actor.type === "operator" || actor.type === "api_token" ? actor.id : null, createdByName: actor.name };
}
