// API schemas: which CVEs the fleet is exposed to. lib/api/schemas/index.ts exports every domain's.
import { z } from "zod";
import { SeveritySchema } from "./patches";

/** For each CVE a staged patch fixes: the hosts it targets that do not have it live. */
export const ExposureItemSchema = z.object({
  cve: z.string(),
  severity: SeveritySchema,
  patches: z.array(z.object({ id: z.string(), title: z.string() })),
  targeted: z.number(),
  exposed: z.number(),
  byRelease: z.array(z.object({ kernelRelease: z.string(), targeted: z.number(), exposed: z.number() })),
  byGroup: z.array(z.object({ groupId: z.string(), name: z.string(), targeted: z.number(), exposed: z.number() })),
});
export type ExposureItem = z.infer<typeof ExposureItemSchema>;
export const ExposureQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) });
export const ExposureSchema = z.object({ items: z.array(ExposureItemSchema), exposedHosts: z.number(), activeHosts: z.number() });
export type Exposure = z.infer<typeof ExposureSchema>;
