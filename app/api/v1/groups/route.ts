import { GroupCreateSchema } from "@/lib/api/schemas";
import { createGroup, listGroups } from "@/lib/groups/groups";
import { route } from "@/lib/http/route";

export const GET = route({ auth: "viewer" }, async () => ({ items: await listGroups() }));

export const POST = route({ auth: "operator", body: GroupCreateSchema }, async ({ actor, body }) =>
  Response.json(await createGroup({ actor, input: body }), { status: 201 }),
);
