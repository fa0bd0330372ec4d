import { PatchWithdrawSchema } from "@/lib/api/schemas";
import { IdParams, route } from "@/lib/http/route";
import { withdrawPatch } from "@/lib/patches/withdraw";

export const POST = route({ auth: "operator", params: IdParams, body: PatchWithdrawSchema }, async ({ actor, params, body }) => withdrawPatch({ actor, id: params.id, reason: body.reason }));
