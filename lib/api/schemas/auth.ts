// API schemas: sign-in and the signed-in operator. lib/api/schemas/index.ts exports every domain's.
import { z } from "zod";
import { storableText } from "@/agent/protocol";
import { RoleSchema } from "./common";

export const LoginBodySchema = z.object({
  username: storableText().trim().min(1, "username is required").max(64),
  password: storableText().min(1, "password is required").max(256),
});
export const MeSchema = z.object({
  id: z.string(),
  username: z.string(),
  role: RoleSchema,
  via: z.enum(["session", "api_token"]),
});
export type Me = z.infer<typeof MeSchema>;
