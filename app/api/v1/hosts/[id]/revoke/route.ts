import { HostRevokeBodySchema } from "@/lib/api/schemas";
import { revokeHost } from "@/lib/fleet/hosts";
import { IdParams, route } from "@/lib/http/route";

export const POST = route({ auth: "admin", params: IdParams, body: HostRevokeBodySchema }, async ({ actor, params, body }) =>
  revokeHost({ actor, hostId: params.id, reason: body.reason, status: body.status }),
);
