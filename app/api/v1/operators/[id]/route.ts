import { OperatorUpdateSchema } from "@/lib/api/schemas";
import { updateOperator } from "@/lib/auth/operators";
import { IdParams, route } from "@/lib/http/route";

export const PATCH = route({ auth: "admin", params: IdParams, body: OperatorUpdateSchema }, async ({ actor, params, body }) =>
  updateOperator({ actor, id: params.id, ...body }),
);
