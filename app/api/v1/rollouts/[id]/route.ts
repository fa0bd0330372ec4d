import { RolloutDetailQuerySchema } from "@/lib/api/schemas";
import { IdParams, route } from "@/lib/http/route";
import { getRolloutDetail } from "@/lib/rollouts/query";

export const GET = route({ auth: "viewer", params: IdParams, query: RolloutDetailQuerySchema }, async ({ params, query }) =>
  getRolloutDetail(params.id, { states: query.state, hosts: query.hosts }),
);
