import { GroupPreviewBodySchema } from "@/lib/api/schemas";
import { previewSelector } from "@/lib/groups/groups";
import { route } from "@/lib/http/route";

// Who a selector matches now: the live count while an operator edits a group.
export const POST = route({ auth: "viewer", body: GroupPreviewBodySchema }, async ({ body }) => previewSelector(body.selector));
