import { HostMergeBodySchema } from "@/lib/api/schemas";
import { mergeDuplicateHost } from "@/lib/fleet/hosts";
import { IdParams, route } from "@/lib/http/route";

// Admin: merging hands the original host's identity to the duplicate's agent.
export const POST = route({ auth: "admin", params: IdParams, body: HostMergeBodySchema }, async ({ actor, params, body }) =>
  mergeDuplicateHost({ actor, hostId: params.id, reason: body.reason }),
);
