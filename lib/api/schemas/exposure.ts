// API schemas: which CVEs the fleet is exposed to. lib/api/schemas/index.ts exports every domain's.
import { z } from "zod";
import { SeveritySchema } from "./patches";

/**
 * For each CVE a staged patch fixes: the hosts it targets that do not have it live. A host whose
 * release's build found the fix already there, or the code not built, is not exposed; an exposed
 * host for which no patch of the CVE can be live (its build refused it or it does not compile
 * alone, or the patch needs a reboot) is `rebootRequired`, the rest can be fixed live.
 */
export const ExposureItemSchema = z.object({
  cve: z.string(),
  severity: SeveritySchema,
  patches: z.array(z.object({ id: z.string(), title: z.string() })),
  targeted: z.number(),
  exposed: z.number(),
  /** Of the exposed hosts, those only a reboot into a fixed kernel protects. */
  rebootRequired: z.number(),
  byRelease: z.array(z.object({ kernelRelease: z.string(), targeted: z.number(), exposed: z.number(), rebootRequired: z.number() })),
  byGroup: z.array(z.object({ groupId: z.string(), name: z.string(), targeted: z.number(), exposed: z.number() })),
});
export type ExposureItem = z.infer<typeof ExposureItemSchema>;
export const ExposureQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) });
export const ExposureSchema = z.object({
  items: z.array(ExposureItemSchema),
  exposedHosts: z.number(),
  /** Exposed hosts that need a reboot for at least one CVE. */
  rebootHosts: z.number(),
  activeHosts: z.number(),
});
export type Exposure = z.infer<typeof ExposureSchema>;
