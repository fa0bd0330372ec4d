import { IdParams, route } from "@/lib/http/route";
import { getPatch } from "@/lib/patches/stage";

export const GET = route({ auth: "viewer", params: IdParams }, async ({ params }) => getPatch(params.id));
