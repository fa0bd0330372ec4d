import { RolloutCreateSchema, RolloutListQuerySchema } from "@/lib/api/schemas";
import { route } from "@/lib/http/route";
import { listRollouts } from "@/lib/rollouts/query";
import { startRollout } from "@/lib/rollouts/start";

export const GET = route({ auth: "viewer", query: RolloutListQuerySchema }, async ({ query }) => listRollouts(query));

export const POST = route({ auth: "operator", body: RolloutCreateSchema }, async ({ actor, body }) =>
  Response.json(await startRollout({ actor, input: body }), { status: 201 }),
);
