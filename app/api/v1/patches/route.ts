import { MAX_DIFF_BYTES, PatchCreateSchema } from "@/lib/api/schemas";
import { route } from "@/lib/http/route";
import { listPatches, stagePatch } from "@/lib/patches/stage";

export const GET = route({ auth: "viewer" }, async () => ({ items: await listPatches() }));

// The diff travels JSON-escaped: allow room above the diff's own limit, which the analysis enforces.
export const POST = route({ auth: "operator", body: PatchCreateSchema, maxBodyBytes: MAX_DIFF_BYTES * 2 + 64 * 1024 }, async ({ actor, body }) =>
  stagePatch({ actor, input: body }),
);
