import { ReapplyResultSchema } from "@/lib/api/schemas";
import { IdParams, route } from "@/lib/http/route";
import { reapplyToHost } from "@/lib/rollouts/reconverge";

export const POST = route({ auth: "operator", params: IdParams }, async ({ actor, params }) => ReapplyResultSchema.parse(await reapplyToHost({ actor, hostId: params.id })));
