import { PatchCreateSchema } from "@/lib/api/schemas";
import { MAX_PATCH_BODY_BYTES } from "@/lib/http/body";
import { route } from "@/lib/http/route";
import { listPatches, stagePatch } from "@/lib/patches/stage";

export const GET = route({ auth: "viewer" }, async () => ({ items: await listPatches() }));

export const POST = route({ auth: "operator", body: PatchCreateSchema, maxBodyBytes: MAX_PATCH_BODY_BYTES }, async ({ actor, body }) =>
  stagePatch({ actor, input: body }),
);
