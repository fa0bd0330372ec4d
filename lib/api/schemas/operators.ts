// API schemas: operators and API tokens. lib/api/schemas/index.ts exports every domain's.
import { z } from "zod";
import { storableText } from "@/agent/protocol";
import { CREATED, RoleSchema } from "./common";

export const OperatorSchema = z.object({
  id: z.string(),
  username: z.string(),
  role: RoleSchema,
  createdAt: z.string(),
  disabledAt: z.string().nullable(),
});
export type Operator = z.infer<typeof OperatorSchema>;
export const PasswordSchema = storableText().min(10, "passwords need at least 10 characters").max(256);
export const OperatorCreateSchema = z.object({
  username: storableText().trim().min(2).max(64).regex(/^[a-z0-9_.-]+$/, "usernames: lowercase letters, digits, _ . - only"),
  password: PasswordSchema,
  role: RoleSchema,
});
export const OperatorUpdateSchema = z
  .object({ role: RoleSchema.optional(), disabled: z.boolean().optional(), password: PasswordSchema.optional() })
  .refine((b) => Object.keys(b).length > 0, "nothing to change");

export const API_TOKEN_DEFAULT_DAYS = 90;
export const API_TOKEN_MAX_DAYS = 365;
export const ApiTokenCreateSchema = z.object({
  name: storableText().trim().min(1, "name is required").max(100),
  role: RoleSchema,
  // Every token expires (default 90 days, at most a year): automation rotates its secrets.
  expiresInDays: z.number().int().min(1).max(API_TOKEN_MAX_DAYS, `API tokens expire within ${API_TOKEN_MAX_DAYS} days`).default(API_TOKEN_DEFAULT_DAYS),
});
export const ApiTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  role: RoleSchema,
  ...CREATED,
  expiresAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type ApiToken = z.infer<typeof ApiTokenSchema>;
export const ApiTokenCreatedSchema = ApiTokenSchema.extend({ token: z.string() });
