import { verifyAuditChain } from "@/lib/audit/verify";
import { route } from "@/lib/http/route";

export const GET = route({ auth: "viewer" }, async () => verifyAuditChain());
