import { revokeApiToken } from "@/lib/auth/api-tokens";
import { IdParams, route } from "@/lib/http/route";

export const DELETE = route({ auth: "admin", params: IdParams }, async ({ actor, params }) => revokeApiToken({ actor, id: params.id }));
