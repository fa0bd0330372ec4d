// API schemas: hosts, their labels, events and the fleet summary. lib/api/schemas/index.ts exports every domain's.
import { z } from "zod";
import { LivepatchSchema, ReloadReportSchema, storableText } from "@/agent/protocol";

export const LabelKeySchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9._/-]*[a-z0-9])?$/, "label keys: lowercase letters, digits, . _ / - (e.g. env, team/db)");
export const LabelValueSchema = z
  .string()
  .max(63)
  .regex(/^[A-Za-z0-9._-]*$/, "label values: letters, digits, . _ - only");
export const LabelsSchema = z
  .record(z.string(), LabelValueSchema)
  .superRefine((labels, ctx) => {
    // Checked here rather than as the record's key schema so the message names the bad key.
    for (const key of Object.keys(labels)) {
      const r = LabelKeySchema.safeParse(key);
      if (!r.success) ctx.addIssue({ code: "custom", path: [key], message: `label key "${key}": ${r.error.issues[0].message}` });
    }
    if (Object.keys(labels).length > 64) ctx.addIssue({ code: "custom", message: "at most 64 labels per host" });
  });
export type Labels = z.infer<typeof LabelsSchema>;

export const HostStatusSchema = z.enum(["active", "revoked", "decommissioned"]);

export const HostSchema = z.object({
  id: z.string().uuid(),
  hostname: z.string(),
  machineId: z.string(),
  bootId: z.string(),
  kernelRelease: z.string(),
  kernelVersion: z.string(),
  distro: z.object({ id: z.string(), name: z.string(), version: z.string() }),
  arch: z.string(),
  uptimeSec: z.number(),
  cpuCount: z.number(),
  memoryBytes: z.number(),
  agentVersion: z.string(),
  status: HostStatusSchema,
  online: z.boolean(),
  lastSeenAt: z.string().nullable(),
  connectedAt: z.string().nullable(),
  enrolledAt: z.string(),
  lastIp: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  livepatches: z.array(LivepatchSchema),
  /** This host enrolled with the machine id of that existing host, without its credential. */
  duplicateOf: z.object({ id: z.string().uuid(), hostname: z.string(), status: HostStatusSchema }).nullable(),
  /** An admin merged this (duplicate) host into that one. */
  mergedInto: z.object({ id: z.string().uuid(), hostname: z.string() }).nullable(),
  /** Its live patches differ from what its rollouts applied for the kernel it runs (see `drift` on the host). */
  drifting: z.boolean(),
});
export type Host = z.infer<typeof HostSchema>;

export const HostEventSchema = z.object({
  id: z.string(),
  at: z.string(),
  type: z.enum(["enrolled", "connected", "disconnected", "reconnected", "kernel_changed", "rebooted", "reloaded", "livepatches_changed", "labels_changed", "revoked", "restored", "merged", "artifact_rejected", "rollout_result"]),
  details: z.record(z.string(), z.unknown()),
});
export type HostEvent = z.infer<typeof HostEventSchema>;

/** What the host runs in effect, like `uptrack-uname`: its kernel plus the patches live in it. */
export const EffectiveKernelSchema = z.object({
  /** e.g. `6.1.0-50-amd64 + 2 livepatches`. */
  summary: z.string(),
  livepatches: z.array(
    LivepatchSchema.extend({ patch: z.object({ id: z.string(), title: z.string(), cves: z.array(z.string()) }).nullable() }),
  ),
  /**
   * Staged patches that target this host's kernel and are not live on it (not those its release's
   * build found already fixed or not built), and how it can be fixed: a live patch, or only a reboot.
   */
  missing: z.array(
    z.object({ patchId: z.string(), title: z.string(), cves: z.array(z.string()), severity: z.string(), verdict: z.string(), remedy: z.enum(["live_patch", "reboot"]), why: z.string().nullable() }),
  ),
});
export type EffectiveKernel = z.infer<typeof EffectiveKernelSchema>;

/** Why a patch that should be live is not (lib/rollouts/desired.ts). */
export const DriftCauseSchema = z.enum(["reload_failed", "reload_refused", "reload_disabled", "rebooted", "removed", "disabled", "unrecorded"]);
export type DriftCause = z.infer<typeof DriftCauseSchema>;

/** The host's live patches against what its rollouts applied for the kernel release it runs. */
export const DriftSchema = z.object({
  missing: z.array(
    z.object({ patchId: z.string(), title: z.string(), moduleName: z.string(), rolloutId: z.string(), appliedAt: z.string(), cause: DriftCauseSchema, why: z.string() }),
  ),
  unexpected: z.array(z.object({ patchId: z.string(), title: z.string(), moduleName: z.string() })),
  /** What the agent did with its kept patches when it started on this boot; null when it has not said. */
  reload: ReloadReportSchema.nullable(),
});
export type Drift = z.infer<typeof DriftSchema>;

/** The rollouts started to put back what a host lost. */
export const ReapplyResultSchema = z.object({ rollouts: z.array(z.string().uuid()) });

export const HostDetailSchema = HostSchema.extend({ events: z.array(HostEventSchema), effective: EffectiveKernelSchema, drift: DriftSchema });
export type HostDetail = z.infer<typeof HostDetailSchema>;

const boolParam = z
  .enum(["true", "false"], { message: "must be true or false" })
  .transform((v) => v === "true");

export const HostSortSchema = z.enum(["hostname", "kernelRelease", "distro", "lastSeenAt", "online", "enrolledAt"]);

export const HostListQuerySchema = z.object({
  q: storableText().trim().max(200).optional(),
  kernel: storableText().max(128).optional(),
  distro: storableText().max(64).optional(),
  online: boolParam.optional(),
  /** `key=value` or `key`; repeat the parameter to require several. */
  label: z
    .preprocess((v) => (v === undefined || Array.isArray(v) ? v : [v]), z.array(storableText().max(130)).max(20))
    .optional(),
  status: HostStatusSchema.optional(),
  /** Members of this group. */
  group: z.string().uuid("group is a group's id").optional(),
  /** Hosts this patch targets that do not have it live (still exposed). */
  missing: z.string().uuid("missing is a patch's id").optional(),
  /** Hosts whose live patches differ from what their rollouts applied (true), or do not (false). */
  drifting: boolParam.optional(),
  sort: HostSortSchema.default("hostname"),
  order: z.enum(["asc", "desc"]).default("asc"),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
});
export type HostListQuery = z.infer<typeof HostListQuerySchema>;

export const HostListSchema = z.object({ items: z.array(HostSchema), total: z.number() });
export type HostList = z.infer<typeof HostListSchema>;

export const HostPatchBodySchema = z.object({ labels: LabelsSchema });
export const HostRevokeBodySchema = z.object({
  reason: storableText().trim().max(500).default(""),
  /** `decommissioned` also hides the host from the default fleet views. */
  status: z.enum(["revoked", "decommissioned"]).default("revoked"),
});
export const HostMergeBodySchema = z.object({ reason: z.string().trim().max(500).default("") });
export const HostRestoreBodySchema = z.object({ reason: z.string().trim().max(500).default("") });

export const FleetSummarySchema = z.object({
  total: z.number(),
  online: z.number(),
  offline: z.number(),
  stale: z.number(),
  revoked: z.number(),
  staleAfterSec: z.number(),
  /** Active hosts whose live patches differ from what their rollouts applied for the kernel they run. */
  drifting: z.number(),
  /** Active hosts exposed to a CVE that no live patch can fix on their release: they need a reboot into a fixed kernel. */
  rebootRequired: z.number(),
  kernels: z.array(z.object({ kernelRelease: z.string(), count: z.number(), online: z.number() })),
  distros: z.array(z.object({ id: z.string(), name: z.string(), count: z.number() })),
  labels: z.array(z.object({ key: z.string(), value: z.string(), count: z.number() })),
  staleHosts: z.array(z.object({ id: z.string(), hostname: z.string(), kernelRelease: z.string(), lastSeenAt: z.string().nullable() })),
});
export type FleetSummary = z.infer<typeof FleetSummarySchema>;
