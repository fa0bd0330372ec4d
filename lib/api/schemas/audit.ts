// API schemas: the audit log, its query and its verification. lib/api/schemas/index.ts exports every domain's.
import { z } from "zod";
import { storableText } from "@/agent/protocol";

export const ActorTypeSchema = z.enum(["operator", "api_token", "agent", "system"]);
export const AuditEventSchema = z.object({
  seq: z.string(),
  at: z.string(),
  actorType: ActorTypeSchema,
  actorId: z.string().nullable(),
  actorName: z.string(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  sourceIp: z.string().nullable(),
  hash: z.string(),
});
export type AuditEvent = z.infer<typeof AuditEventSchema>;
/** Postgres bigint's largest value: a larger number in a query would fail in the database. */
const MAX_BIGINT = 2n ** 63n - 1n;
/** A date in a query string, within what Postgres (and a person) can mean: years 1 to 9999. */
const QueryDateSchema = z.coerce
  .date({ error: "a date, e.g. 2026-01-31 or 2026-01-31T12:00:00Z" })
  .min(new Date("0001-01-01T00:00:00Z"), "a date from year 1")
  .max(new Date("9999-12-31T23:59:59.999Z"), "a date before year 10000");
export const AuditQuerySchema = z.object({
  actor: storableText().max(100).optional(),
  action: storableText().max(100).optional(),
  targetType: storableText().max(50).optional(),
  targetId: storableText().max(100).optional(),
  /** Events about this host, including every rollout that touched it. */
  host: z.string().uuid("host is a host's id (a UUID)").optional(),
  from: QueryDateSchema.optional(),
  to: QueryDateSchema.optional(),
  /** Keyset pagination: events with seq below this. */
  before: z
    .string()
    .regex(/^[1-9][0-9]{0,29}$/, "before is an event's seq (a whole number from 1)")
    .transform((s) => BigInt(s))
    // Checked on the string's value rather than with a bigint bound: a bound would put a bigint in
    // the error's issues, which JSON cannot carry.
    .refine((n) => n <= MAX_BIGINT, "before is past the largest event seq (a Postgres bigint)")
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type AuditQuery = z.infer<typeof AuditQuerySchema>;
export const AuditListSchema = z.object({ items: z.array(AuditEventSchema), nextBefore: z.string().nullable() });
/**
 * What verification found. link: an event's prevHash is not its predecessor's hash (an event
 * before it was removed or changed); content: an event's hash does not match its content; mac: an
 * event's MAC does not match its hash (the chain was recomputed without the key in the data dir);
 * unanchored: an event has no MAC and no checkpoint covers it; checkpoint: a checkpointed event is
 * missing or differs; truncated: the log ends before the newest checkpoint (its newest events were
 * removed); forged_checkpoint: a checkpoint line's MAC is wrong; key_missing: no audit key in the
 * data dir, so nothing can be checked against it.
 */
export const AuditProblemSchema = z.enum(["link", "content", "mac", "unanchored", "checkpoint", "truncated", "forged_checkpoint", "key_missing"]);
export type AuditProblem = z.infer<typeof AuditProblemSchema>;
export const AuditCheckpointSchema = z.object({ seq: z.string(), hash: z.string(), at: z.string(), mac: z.string() });
export const AuditVerifySchema = z.object({
  ok: z.boolean(),
  /** Events verified before the first problem (all of them when ok). */
  checked: z.number(),
  /** The first event whose hash, link, MAC or checkpoint does not match, if any. */
  firstBadSeq: z.string().nullable(),
  /** What was found, in words; null when ok. */
  reason: z.string().nullable(),
  problem: AuditProblemSchema.nullable(),
  /** When the newest events were removed: where the log ends and the checkpoint that proves it. */
  truncation: z.object({ lastSeq: z.string().nullable(), checkpointSeq: z.string(), checkpointAt: z.string() }).nullable(),
  /** The anchors outside the database (in the console's data dir) the chain was checked against. */
  anchor: z.object({
    checkpointFile: z.string(),
    checkpoints: z.number(),
    /** The newest valid checkpoint, exactly as written: keep a copy elsewhere to check against later. */
    latest: AuditCheckpointSchema.nullable(),
    forgedLines: z.array(z.number()),
    unreadableLines: z.array(z.number()),
  }),
});
export type AuditVerify = z.infer<typeof AuditVerifySchema>;
