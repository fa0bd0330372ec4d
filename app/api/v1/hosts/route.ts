import { HostListQuerySchema } from "@/lib/api/schemas";
import { listHosts } from "@/lib/fleet/hosts";
import { route } from "@/lib/http/route";

export const GET = route({ auth: "viewer", query: HostListQuerySchema }, async ({ query }) => listHosts(query));
