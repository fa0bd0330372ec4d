import { listBuildWorkers } from "@/lib/builds/query";
import { route } from "@/lib/http/route";

export const GET = route({ auth: "viewer" }, async () => ({ items: await listBuildWorkers() }));
