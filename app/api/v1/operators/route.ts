import { OperatorCreateSchema } from "@/lib/api/schemas";
import { createOperator, listOperators } from "@/lib/auth/operators";
import { route } from "@/lib/http/route";

export const GET = route({ auth: "admin" }, async () => ({ items: await listOperators() }));

export const POST = route({ auth: "admin", body: OperatorCreateSchema }, async ({ actor, body }) => createOperator({ actor, ...body }));
