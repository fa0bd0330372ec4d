import { ExposureQuerySchema } from "@/lib/api/schemas";
import { exposure } from "@/lib/fleet/exposure";
import { route } from "@/lib/http/route";

export const GET = route({ auth: "viewer", query: ExposureQuerySchema }, async ({ query }) => exposure({ limit: query.limit }));
