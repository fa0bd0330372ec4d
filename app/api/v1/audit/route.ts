import { AuditQuerySchema } from "@/lib/api/schemas";
import { listAuditEvents } from "@/lib/audit/query";
import { route } from "@/lib/http/route";

export const GET = route({ auth: "viewer", query: AuditQuerySchema }, async ({ query }) => listAuditEvents(query));
