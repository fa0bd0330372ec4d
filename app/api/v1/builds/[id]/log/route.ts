import { getBuildLog } from "@/lib/builds/query";
import { IdParams, route } from "@/lib/http/route";

export const GET = route({ auth: "viewer", params: IdParams }, async ({ params }) => getBuildLog(params.id));
