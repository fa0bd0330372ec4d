import { HostPatchBodySchema } from "@/lib/api/schemas";
import { getHost, setHostLabels } from "@/lib/fleet/hosts";
import { IdParams, route } from "@/lib/http/route";

export const GET = route({ auth: "viewer", params: IdParams }, async ({ params }) => getHost(params.id));

export const PATCH = route({ auth: "operator", params: IdParams, body: HostPatchBodySchema }, async ({ actor, params, body }) =>
  setHostLabels({ actor, hostId: params.id, labels: body.labels }),
);
