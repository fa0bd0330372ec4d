import { RolloutActionSchema } from "@/lib/api/schemas";
import { IdParams, route } from "@/lib/http/route";
import { rollbackRollout } from "@/lib/rollouts/actions";

export const POST = route({ auth: "operator", params: IdParams, body: RolloutActionSchema }, async ({ actor, params, body }) =>
  Response.json(await rollbackRollout({ actor, id: params.id, reason: body.reason }), { status: 201 }),
);
