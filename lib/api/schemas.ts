// zod schemas of the public HTTP API (/api/v1): the single source for route validation, the
// OpenAPI document (lib/api/openapi.ts) and the console's typed fetches. No server-only imports
// here: components import the inferred types.
import { z } from "zod";
import { LivepatchSchema } from "@/agent/protocol";

export const RoleSchema = z.enum(["viewer", "operator", "admin"]);
export type Role = z.infer<typeof RoleSchema>;

export const ErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), issues: z.array(z.unknown()).optional() }),
});
export type ApiError = z.infer<typeof ErrorSchema>;

// ---- auth ----
export const LoginBodySchema = z.object({
  username: z.string().trim().min(1, "username is required").max(64),
  password: z.string().min(1, "password is required").max(256),
});
export const MeSchema = z.object({
  id: z.string(),
  username: z.string(),
  role: RoleSchema,
  via: z.enum(["session", "api_token"]),
});
export type Me = z.infer<typeof MeSchema>;

// ---- hosts ----
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
});
export type Host = z.infer<typeof HostSchema>;

export const HostEventSchema = z.object({
  id: z.string(),
  at: z.string(),
  type: z.enum(["enrolled", "connected", "disconnected", "kernel_changed", "rebooted", "livepatches_changed", "labels_changed", "revoked", "artifact_rejected"]),
  details: z.record(z.string(), z.unknown()),
});
export type HostEvent = z.infer<typeof HostEventSchema>;

export const HostDetailSchema = HostSchema.extend({ events: z.array(HostEventSchema) });
export type HostDetail = z.infer<typeof HostDetailSchema>;

const boolParam = z
  .enum(["true", "false"], { message: "must be true or false" })
  .transform((v) => v === "true");

export const HostSortSchema = z.enum(["hostname", "kernelRelease", "distro", "lastSeenAt", "online", "enrolledAt"]);

export const HostListQuerySchema = z.object({
  q: z.string().trim().max(200).optional(),
  kernel: z.string().max(128).optional(),
  distro: z.string().max(64).optional(),
  online: boolParam.optional(),
  /** `key=value` or `key`; repeat the parameter to require several. */
  label: z
    .preprocess((v) => (v === undefined || Array.isArray(v) ? v : [v]), z.array(z.string().max(130)).max(20))
    .optional(),
  status: HostStatusSchema.optional(),
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
  reason: z.string().trim().max(500).default(""),
  /** `decommissioned` also hides the host from the default fleet views. */
  status: z.enum(["revoked", "decommissioned"]).default("revoked"),
});

export const FleetSummarySchema = z.object({
  total: z.number(),
  online: z.number(),
  offline: z.number(),
  stale: z.number(),
  revoked: z.number(),
  staleAfterSec: z.number(),
  kernels: z.array(z.object({ kernelRelease: z.string(), count: z.number(), online: z.number() })),
  distros: z.array(z.object({ id: z.string(), name: z.string(), count: z.number() })),
  labels: z.array(z.object({ key: z.string(), value: z.string(), count: z.number() })),
  staleHosts: z.array(z.object({ id: z.string(), hostname: z.string(), kernelRelease: z.string(), lastSeenAt: z.string().nullable() })),
});
export type FleetSummary = z.infer<typeof FleetSummarySchema>;

// ---- enrollment tokens ----
export const EnrollmentTokenCreateSchema = z.object({
  note: z.string().trim().max(200).default(""),
  maxUses: z.number().int().min(1).max(100_000).default(1),
  expiresInHours: z.number().min(0.05).max(24 * 90).default(24),
});
export const EnrollmentTokenSchema = z.object({
  id: z.string(),
  prefix: z.string(),
  note: z.string(),
  maxUses: z.number(),
  uses: z.number(),
  expiresAt: z.string(),
  revokedAt: z.string().nullable(),
  createdAt: z.string(),
  state: z.enum(["active", "expired", "used_up", "revoked"]),
});
export type EnrollmentToken = z.infer<typeof EnrollmentTokenSchema>;
export const EnrollmentTokenCreatedSchema = EnrollmentTokenSchema.extend({ token: z.string() });

// ---- operators and API tokens ----
export const OperatorSchema = z.object({
  id: z.string(),
  username: z.string(),
  role: RoleSchema,
  createdAt: z.string(),
  disabledAt: z.string().nullable(),
});
export type Operator = z.infer<typeof OperatorSchema>;
export const PasswordSchema = z.string().min(10, "passwords need at least 10 characters").max(256);
export const OperatorCreateSchema = z.object({
  username: z.string().trim().min(2).max(64).regex(/^[a-z0-9_.-]+$/, "usernames: lowercase letters, digits, _ . - only"),
  password: PasswordSchema,
  role: RoleSchema,
});
export const OperatorUpdateSchema = z
  .object({ role: RoleSchema.optional(), disabled: z.boolean().optional(), password: PasswordSchema.optional() })
  .refine((b) => Object.keys(b).length > 0, "nothing to change");

export const ApiTokenCreateSchema = z.object({
  name: z.string().trim().min(1, "name is required").max(100),
  role: RoleSchema,
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});
export const ApiTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  role: RoleSchema,
  createdBy: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type ApiToken = z.infer<typeof ApiTokenSchema>;
export const ApiTokenCreatedSchema = ApiTokenSchema.extend({ token: z.string() });

// ---- settings ----
export const SettingsSchema = z.object({
  heartbeatIntervalSec: z.number().int().min(5).max(3600),
  staleAfterSec: z.number().int().min(60).max(90 * 86400),
});
export type Settings = z.infer<typeof SettingsSchema>;
export const SettingsPatchSchema = SettingsSchema.partial().refine((b) => Object.keys(b).length > 0, "nothing to change");

// ---- audit ----
export const ActorTypeSchema = z.enum(["operator", "api_token", "agent", "system"]);
export const AuditEventSchema = z.object({
  seq: z.string(),
  at: z.string(),
  actorType: ActorTypeSchema,
  actorId: z.string().nullable(),
  actorName: z.string(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  sourceIp: z.string().nullable(),
  hash: z.string(),
});
export type AuditEvent = z.infer<typeof AuditEventSchema>;
export const AuditQuerySchema = z.object({
  actor: z.string().max(100).optional(),
  action: z.string().max(100).optional(),
  targetType: z.string().max(50).optional(),
  targetId: z.string().max(100).optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
  /** Keyset pagination: events with seq below this. */
  before: z.coerce.bigint().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type AuditQuery = z.infer<typeof AuditQuerySchema>;
export const AuditListSchema = z.object({ items: z.array(AuditEventSchema), nextBefore: z.string().nullable() });

// ---- live updates on socket.io namespace /ui ----
export const UI_NAMESPACE = "/ui";
export interface UiServerEvents {
  /** Hosts whose row changed (inventory, online state, labels). Coalesced, at most ~4/s. */
  "hosts:changed": (e: { ids: string[]; all?: boolean }) => void;
  "audit:appended": (e: { seq: string }) => void;
  /** Builds of a patch changed state, or (`log`) one's log grew. */
  "builds:changed": (e: { patchId: string; buildId?: string; log: boolean }) => void;
}

// ---- patches ----
export const CveSchema = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^CVE-\d{4}-\d{4,7}$/, "CVE ids look like CVE-2024-1086");
export const KernelReleaseSchema = z
  .string()
  .trim()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._+~-]+$/, "kernel releases look like 6.1.0-50-amd64 (uname -r)");
export const SeveritySchema = z.enum(["low", "medium", "high", "critical"]);
export const VerdictSchema = z.enum(["hot-patchable", "needs-review", "requires-reboot"]);

/** Largest diff accepted (bytes); the analysis enforces it with a clear error. */
export const MAX_DIFF_BYTES = 1 << 20;

export const PatchCreateSchema = z.object({
  title: z.string().trim().min(1, "title is required").max(200),
  description: z.string().trim().max(10_000).default(""),
  cves: z
    .array(CveSchema)
    .max(50)
    .default([])
    .refine((c) => new Set(c).size === c.length, "a CVE is listed twice"),
  severity: SeveritySchema,
  diff: z.string().min(1, "diff is required"),
  /** Default: every kernel release seen in the fleet. */
  kernelReleases: z.array(KernelReleaseSchema).max(500).optional(),
});
export type PatchCreate = z.infer<typeof PatchCreateSchema>;

export const PatchSummarySchema = z.object({
  id: z.string(),
  title: z.string(),
  cves: z.array(z.string()),
  severity: SeveritySchema,
  verdict: VerdictSchema,
  functions: z.array(z.string()),
  targetReleases: z.array(z.string()),
  createdBy: z.string(),
  createdAt: z.string(),
});
export type PatchSummary = z.infer<typeof PatchSummarySchema>;

export const PatchDetailSchema = PatchSummarySchema.extend({
  description: z.string(),
  diff: z.string(),
  diffSha256: z.string(),
  /** lib/patches/types.ts PatchAnalysis: files, functions, findings, verdict reasons. */
  analysis: z.record(z.string(), z.unknown()),
  /** One per kernel release: built once, whatever the number of hosts running it. */
  builds: z.array(z.lazy(() => BuildSchema)),
});
export type PatchDetail = z.infer<typeof PatchDetailSchema>;

export const BuildStatusSchema = z.enum(["queued", "building", "succeeded", "failed"]);
export type BuildStatus = z.infer<typeof BuildStatusSchema>;
export const BuildSchema = z.object({
  id: z.string(),
  patchId: z.string(),
  kernelRelease: z.string(),
  status: BuildStatusSchema,
  /** Active hosts of the fleet running this release now. */
  hostCount: z.number(),
  error: z.string().nullable(),
  attempts: z.number(),
  builder: z.string(),
  queuedAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  artifactSha256: z.string().nullable(),
  artifactSize: z.number().nullable(),
  moduleName: z.string().nullable(),
});
export type Build = z.infer<typeof BuildSchema>;
export const BuildLogSchema = z.object({ id: z.string(), status: BuildStatusSchema, log: z.string() });
export const EnsureBuildsSchema = z.object({ kernelReleases: z.array(KernelReleaseSchema).max(500).optional() });
