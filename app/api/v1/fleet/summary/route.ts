import { fleetSummary } from "@/lib/fleet/summary";
import { route } from "@/lib/http/route";

export const GET = route({ auth: "viewer" }, async () => fleetSummary());
