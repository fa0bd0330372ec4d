import { GroupUpdateSchema } from "@/lib/api/schemas";
import { deleteGroup, getGroup, updateGroup } from "@/lib/groups/groups";
import { IdParams, route } from "@/lib/http/route";

export const GET = route({ auth: "viewer", params: IdParams }, async ({ params }) => getGroup(params.id));

export const PATCH = route({ auth: "operator", params: IdParams, body: GroupUpdateSchema }, async ({ actor, params, body }) =>
  updateGroup({ actor, id: params.id, input: body }),
);

export const DELETE = route({ auth: "operator", params: IdParams }, async ({ actor, params }) => {
  await deleteGroup({ actor, id: params.id });
  return { ok: true };
});
