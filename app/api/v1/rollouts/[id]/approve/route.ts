import { RolloutActionSchema } from "@/lib/api/schemas";
import { IdParams, route } from "@/lib/http/route";
import { approveRollout } from "@/lib/rollouts/actions";

export const POST = route({ auth: "operator", params: IdParams, body: RolloutActionSchema }, async ({ actor, params, body }) =>
  approveRollout({ actor, id: params.id, reason: body.reason }),
);
