// API schemas: enrollment tokens. lib/api/schemas/index.ts exports every domain's.
import { z } from "zod";
import { storableText } from "@/agent/protocol";

export const EnrollmentTokenCreateSchema = z.object({
  note: storableText().trim().max(200).default(""),
  maxUses: z.number().int().min(1).max(100_000).default(1),
  expiresInHours: z.number().min(0.05).max(24 * 90).default(24),
});
export const EnrollmentTokenSchema = z.object({
  id: z.string(),
  prefix: z.string(),
  note: z.string(),
  maxUses: z.number(),
  uses: z.number(),
  expiresAt: z.string(),
  revokedAt: z.string().nullable(),
  createdAt: z.string(),
  state: z.enum(["active", "expired", "used_up", "revoked"]),
});
export type EnrollmentToken = z.infer<typeof EnrollmentTokenSchema>;
export const EnrollmentTokenCreatedSchema = EnrollmentTokenSchema.extend({ token: z.string() });
