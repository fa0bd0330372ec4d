import { rebuild } from "@/lib/builds/query";
import { IdParams, route } from "@/lib/http/route";

export const POST = route({ auth: "operator", params: IdParams }, async ({ actor, params }) => {
  await rebuild({ actor, buildId: params.id });
  return { ok: true };
});
