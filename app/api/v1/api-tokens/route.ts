import { ApiTokenCreateSchema } from "@/lib/api/schemas";
import { createApiToken, listApiTokens } from "@/lib/auth/api-tokens";
import { route } from "@/lib/http/route";

export const GET = route({ auth: "admin" }, async () => ({ items: await listApiTokens() }));

export const POST = route({ auth: "admin", body: ApiTokenCreateSchema }, async ({ actor, body }) => createApiToken({ actor, ...body }));
