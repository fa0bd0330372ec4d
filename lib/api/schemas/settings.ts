// API schemas: console settings. lib/api/schemas/index.ts exports every domain's.
import { z } from "zod";

export const SettingsSchema = z.object({
  heartbeatIntervalSec: z.number().int().min(5).max(3600),
  staleAfterSec: z.number().int().min(60).max(90 * 86400),
  /** Host timeline entries older than this are deleted (by every console process, in batches). */
  hostEventRetentionDays: z.number().int().min(1).max(3650),
  /**
   * A host that lost a patch it should have live (lib/rollouts/reconverge.ts): `auto` re-applies
   * it (a rollout started by the system, audited), `flag` only shows the drift for an operator.
   */
  reconverge: z.enum(["flag", "auto"]),
});
export type Settings = z.infer<typeof SettingsSchema>;
export const SettingsPatchSchema = SettingsSchema.partial().refine((b) => Object.keys(b).length > 0, "nothing to change");
