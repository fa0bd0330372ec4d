import { EnsureBuildsSchema } from "@/lib/api/schemas";
import { ensureBuilds } from "@/lib/builds/plan";
import { listBuilds } from "@/lib/builds/query";
import { IdParams, route } from "@/lib/http/route";

export const GET = route({ auth: "viewer", params: IdParams }, async ({ params }) => ({ items: await listBuilds(params.id) }));

// Ensure builds: creates the missing ones (never a second build of a release) and returns them all.
export const POST = route({ auth: "operator", params: IdParams, body: EnsureBuildsSchema }, async ({ actor, params, body }) => {
  const created = await ensureBuilds({ patchId: params.id, kernelReleases: body.kernelReleases, actor });
  return { created: created.map((b) => b.kernelRelease).sort(), items: await listBuilds(params.id) };
});
