import { HostRestoreBodySchema } from "@/lib/api/schemas";
import { restoreHost } from "@/lib/fleet/hosts";
import { IdParams, route } from "@/lib/http/route";

export const POST = route({ auth: "admin", params: IdParams, body: HostRestoreBodySchema }, async ({ actor, params, body }) =>
  restoreHost({ actor, hostId: params.id, reason: body.reason }),
);
