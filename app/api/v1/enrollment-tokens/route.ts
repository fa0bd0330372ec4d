import { EnrollmentTokenCreateSchema } from "@/lib/api/schemas";
import { createEnrollmentToken, listEnrollmentTokens } from "@/lib/agents/enrollment-tokens";
import { route } from "@/lib/http/route";

export const GET = route({ auth: "admin" }, async () => ({ items: await listEnrollmentTokens() }));

export const POST = route({ auth: "admin", body: EnrollmentTokenCreateSchema }, async ({ actor, body }) => createEnrollmentToken({ actor, ...body }));
