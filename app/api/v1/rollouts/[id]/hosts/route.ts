import { RolloutHostsQuerySchema } from "@/lib/api/schemas";
import { IdParams, route } from "@/lib/http/route";
import { listRolloutHosts } from "@/lib/rollouts/query";

export const GET = route({ auth: "viewer", params: IdParams, query: RolloutHostsQuerySchema }, async ({ params, query }) => listRolloutHosts(params.id, query));
