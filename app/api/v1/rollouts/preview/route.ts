import { RolloutCreateSchema } from "@/lib/api/schemas";
import { route } from "@/lib/http/route";
import { previewRollout } from "@/lib/rollouts/start";

// What POST /api/v1/rollouts would do, without doing it: the confirmation before one click.
export const POST = route({ auth: "viewer", body: RolloutCreateSchema }, async ({ body }) => previewRollout(body));
