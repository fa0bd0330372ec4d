import { revokeEnrollmentToken } from "@/lib/agents/enrollment-tokens";
import { IdParams, route } from "@/lib/http/route";

export const DELETE = route({ auth: "admin", params: IdParams }, async ({ actor, params }) => revokeEnrollmentToken({ actor, id: params.id }));
