// API schemas: roles and the error body every route answers with. lib/api/schemas/index.ts exports every domain's.
import { z } from "zod";

export const RoleSchema = z.enum(["viewer", "operator", "admin"]);
export type Role = z.infer<typeof RoleSchema>;

export const ErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), issues: z.array(z.unknown()).optional() }),
});
export type ApiError = z.infer<typeof ErrorSchema>;

/** A time as the API writes it: ISO 8601 in UTC (`Date.toISOString()`). */
export const Timestamp = z.iso.datetime();
/** Who made a record (an operator's or API token's name, or "system") and when. */
export const CREATED = { createdBy: z.string(), createdAt: Timestamp };
