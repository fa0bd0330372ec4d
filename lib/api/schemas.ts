// zod schemas of the public HTTP API (/api/v1): the single source for route validation, the
// OpenAPI document (lib/api/openapi.ts) and the console's typed fetches. No server-only imports
// here: components import the inferred types.
import { z } from "zod";
import { LivepatchSchema, storableText } from "@/agent/protocol";
import { BuildOutcome as DbBuildOutcome, RolloutHostState as DbRolloutHostState } from "@/lib/generated/prisma/enums";

export const RoleSchema = z.enum(["viewer", "operator", "admin"]);
export type Role = z.infer<typeof RoleSchema>;

export const ErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), issues: z.array(z.unknown()).optional() }),
});
export type ApiError = z.infer<typeof ErrorSchema>;

// ---- auth ----
export const LoginBodySchema = z.object({
  username: storableText().trim().min(1, "username is required").max(64),
  password: storableText().min(1, "password is required").max(256),
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
  /** This host enrolled with the machine id of that existing host, without its credential. */
  duplicateOf: z.object({ id: z.string().uuid(), hostname: z.string(), status: HostStatusSchema }).nullable(),
  /** An admin merged this (duplicate) host into that one. */
  mergedInto: z.object({ id: z.string().uuid(), hostname: z.string() }).nullable(),
});
export type Host = z.infer<typeof HostSchema>;

export const HostEventSchema = z.object({
  id: z.string(),
  at: z.string(),
  type: z.enum(["enrolled", "connected", "disconnected", "reconnected", "kernel_changed", "rebooted", "livepatches_changed", "labels_changed", "revoked", "restored", "merged", "artifact_rejected", "rollout_result"]),
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
  /** Staged patches that target this host's kernel and are not live on it. */
  missing: z.array(z.object({ patchId: z.string(), title: z.string(), cves: z.array(z.string()), severity: z.string(), verdict: z.string() })),
});
export type EffectiveKernel = z.infer<typeof EffectiveKernelSchema>;

export const HostDetailSchema = HostSchema.extend({ events: z.array(HostEventSchema), effective: EffectiveKernelSchema });
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
  kernels: z.array(z.object({ kernelRelease: z.string(), count: z.number(), online: z.number() })),
  distros: z.array(z.object({ id: z.string(), name: z.string(), count: z.number() })),
  labels: z.array(z.object({ key: z.string(), value: z.string(), count: z.number() })),
  staleHosts: z.array(z.object({ id: z.string(), hostname: z.string(), kernelRelease: z.string(), lastSeenAt: z.string().nullable() })),
});
export type FleetSummary = z.infer<typeof FleetSummarySchema>;

// ---- enrollment tokens ----
export const EnrollmentTokenCreateSchema = z.object({
  note: storableText().trim().max(200).default(""),
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
export const PasswordSchema = storableText().min(10, "passwords need at least 10 characters").max(256);
export const OperatorCreateSchema = z.object({
  username: storableText().trim().min(2).max(64).regex(/^[a-z0-9_.-]+$/, "usernames: lowercase letters, digits, _ . - only"),
  password: PasswordSchema,
  role: RoleSchema,
});
export const OperatorUpdateSchema = z
  .object({ role: RoleSchema.optional(), disabled: z.boolean().optional(), password: PasswordSchema.optional() })
  .refine((b) => Object.keys(b).length > 0, "nothing to change");

export const API_TOKEN_DEFAULT_DAYS = 90;
export const API_TOKEN_MAX_DAYS = 365;
export const ApiTokenCreateSchema = z.object({
  name: storableText().trim().min(1, "name is required").max(100),
  role: RoleSchema,
  // Every token expires (default 90 days, at most a year): automation rotates its secrets.
  expiresInDays: z.number().int().min(1).max(API_TOKEN_MAX_DAYS, `API tokens expire within ${API_TOKEN_MAX_DAYS} days`).default(API_TOKEN_DEFAULT_DAYS),
});
export const ApiTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  role: RoleSchema,
  createdBy: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type ApiToken = z.infer<typeof ApiTokenSchema>;
export const ApiTokenCreatedSchema = ApiTokenSchema.extend({ token: z.string() });

// ---- settings ----
export const SettingsSchema = z.object({
  heartbeatIntervalSec: z.number().int().min(5).max(3600),
  staleAfterSec: z.number().int().min(60).max(90 * 86400),
  /** Host timeline entries older than this are deleted (by every console process, in batches). */
  hostEventRetentionDays: z.number().int().min(1).max(3650),
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
/** Postgres bigint's largest value: a larger number in a query would fail in the database. */
const MAX_BIGINT = 2n ** 63n - 1n;
/** A date in a query string, within what Postgres (and a person) can mean: years 1 to 9999. */
const QueryDateSchema = z.coerce
  .date({ error: "a date, e.g. 2026-01-31 or 2026-01-31T12:00:00Z" })
  .min(new Date("0001-01-01T00:00:00Z"), "a date from year 1")
  .max(new Date("9999-12-31T23:59:59.999Z"), "a date before year 10000");
export const AuditQuerySchema = z.object({
  actor: storableText().max(100).optional(),
  action: storableText().max(100).optional(),
  targetType: storableText().max(50).optional(),
  targetId: storableText().max(100).optional(),
  /** Events about this host, including every rollout that touched it. */
  host: z.string().uuid("host is a host's id (a UUID)").optional(),
  from: QueryDateSchema.optional(),
  to: QueryDateSchema.optional(),
  /** Keyset pagination: events with seq below this. */
  before: z
    .string()
    .regex(/^[1-9][0-9]{0,29}$/, "before is an event's seq (a whole number from 1)")
    .transform((s) => BigInt(s))
    // Checked on the string's value rather than with a bigint bound: a bound would put a bigint in
    // the error's issues, which JSON cannot carry.
    .refine((n) => n <= MAX_BIGINT, "before is past the largest event seq (a Postgres bigint)")
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type AuditQuery = z.infer<typeof AuditQuerySchema>;
export const AuditListSchema = z.object({ items: z.array(AuditEventSchema), nextBefore: z.string().nullable() });
/**
 * What verification found. link: an event's prevHash is not its predecessor's hash (an event
 * before it was removed or changed); content: an event's hash does not match its content; mac: an
 * event's MAC does not match its hash (the chain was recomputed without the key in the data dir);
 * unanchored: an event has no MAC and no checkpoint covers it; checkpoint: a checkpointed event is
 * missing or differs; truncated: the log ends before the newest checkpoint (its newest events were
 * removed); forged_checkpoint: a checkpoint line's MAC is wrong; key_missing: no audit key in the
 * data dir, so nothing can be checked against it.
 */
export const AuditProblemSchema = z.enum(["link", "content", "mac", "unanchored", "checkpoint", "truncated", "forged_checkpoint", "key_missing"]);
export type AuditProblem = z.infer<typeof AuditProblemSchema>;
export const AuditCheckpointSchema = z.object({ seq: z.string(), hash: z.string(), at: z.string(), mac: z.string() });
export const AuditVerifySchema = z.object({
  ok: z.boolean(),
  /** Events verified before the first problem (all of them when ok). */
  checked: z.number(),
  /** The first event whose hash, link, MAC or checkpoint does not match, if any. */
  firstBadSeq: z.string().nullable(),
  /** What was found, in words; null when ok. */
  reason: z.string().nullable(),
  problem: AuditProblemSchema.nullable(),
  /** When the newest events were removed: where the log ends and the checkpoint that proves it. */
  truncation: z.object({ lastSeq: z.string().nullable(), checkpointSeq: z.string(), checkpointAt: z.string() }).nullable(),
  /** The anchors outside the database (in the console's data dir) the chain was checked against. */
  anchor: z.object({
    checkpointFile: z.string(),
    checkpoints: z.number(),
    /** The newest valid checkpoint, exactly as written: keep a copy elsewhere to check against later. */
    latest: AuditCheckpointSchema.nullable(),
    forgedLines: z.array(z.number()),
    unreadableLines: z.array(z.number()),
  }),
});
export type AuditVerify = z.infer<typeof AuditVerifySchema>;

// ---- live updates on socket.io namespace /ui ----
export const UI_NAMESPACE = "/ui";
export interface UiServerEvents {
  /** Hosts whose row changed (inventory, online state, labels). Coalesced, at most ~4/s. */
  "hosts:changed": (e: { ids: string[]; all?: boolean }) => void;
  "audit:appended": (e: { seq: string }) => void;
  /** Builds of a patch changed state, or (`log`) one's log grew. */
  "builds:changed": (e: { patchId: string; buildId?: string; log: boolean }) => void;
  /** A rollout's status or host states changed. Coalesced per rollout, at most ~4/s. */
  "rollouts:changed": (e: { ids: string[] }) => void;
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
  title: storableText().trim().min(1, "title is required").max(200),
  description: storableText().trim().max(10_000).default(""),
  cves: z
    .array(CveSchema)
    .max(50)
    .default([])
    .refine((c) => new Set(c).size === c.length, "a CVE is listed twice"),
  severity: SeveritySchema,
  diff: storableText().min(1, "diff is required"),
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
/**
 * How a finished build ended (the database enum, one definition): built; refused (the builder
 * cannot carry the change safely, the reason names the symbol); not_built (the patched file is not
 * compiled in the release's config: nothing to patch); does_not_compile (the file does not compile
 * with only the diff applied: the fix needs more); already_fixed (the release's source has the
 * patch already: nothing to do, not a failure); no_change (the patch changes none of the release's
 * compiled code: nothing to do); failed, timeout, bad_output (the build went wrong).
 */
export const BuildOutcomeSchema = z.enum(DbBuildOutcome);
export type BuildOutcome = z.infer<typeof BuildOutcomeSchema>;
/** What a built module replaces and adds, per release. */
export const BuildReportSchema = z.object({
  /** The exact source the module was built from, e.g. Debian 6.1.192-1 (Linux 6.1.192). */
  source: z.string().optional(),
  /** Each function the module replaces: its klp_object (vmlinux or a module), kallsyms position among same-named symbols, source file. */
  replaced: z.array(z.object({ object: z.string(), function: z.string(), sympos: z.number().int(), file: z.string() })),
  /** Functions the patch adds (called by the replaced ones). */
  added: z.array(z.object({ object: z.string(), function: z.string(), file: z.string() })),
});
export type BuildReport = z.infer<typeof BuildReportSchema>;
export const BuildSchema = z.object({
  id: z.string(),
  patchId: z.string(),
  kernelRelease: z.string(),
  status: BuildStatusSchema,
  /** Set once finished: `built` when succeeded, why not otherwise. */
  outcome: BuildOutcomeSchema.nullable(),
  /** Set when built. */
  report: BuildReportSchema.nullable(),
  /** Active hosts of the fleet running this release now. */
  hostCount: z.number(),
  error: z.string().nullable(),
  attempts: z.number(),
  builder: z.string(),
  /** The build worker that ran it last (its name); null before any did. */
  worker: z.string().nullable(),
  queuedAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  artifactSha256: z.string().nullable(),
  artifactSize: z.number().nullable(),
  moduleName: z.string().nullable(),
});
export type Build = z.infer<typeof BuildSchema>;
export const BuildLogSchema = z.object({ id: z.string(), status: BuildStatusSchema, log: z.string() });
/** A process that runs builds: a build worker (`npm run build-worker`) or a console building in-process. */
export const BuildWorkerSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(["console", "worker"]),
  hostname: z.string(),
  pid: z.number(),
  builder: z.string(),
  concurrency: z.number(),
  /** Builds it runs now. */
  running: z.number(),
  /** Kernel releases it has prepared: it takes their builds first. */
  releases: z.array(z.string()),
  /** Its heartbeat is current; a worker that died goes offline after its lease (SPLICER_BUILD_LEASE_SEC). */
  online: z.boolean(),
  startedAt: z.string(),
  lastSeenAt: z.string(),
  stoppedAt: z.string().nullable(),
});
export type BuildWorkerInfo = z.infer<typeof BuildWorkerSchema>;
export const EnsureBuildsSchema = z.object({ kernelReleases: z.array(KernelReleaseSchema).max(500).optional() });

// ---- groups ----
const DistroIdSchema = z.string().trim().min(1).max(64).regex(/^[a-z0-9._-]+$/, "distro ids look like debian, ubuntu, rhel (os-release ID)");

/**
 * Which hosts a group holds, evaluated live. A host is a member when it is active and either is
 * listed in `hostIds` or matches every other criterion given (labels: all of them; kernel
 * releases and distros: any of those listed). `all: true` matches every active host.
 */
export const GroupSelectorSchema = z
  .object({
    all: z.literal(true).optional(),
    labels: z.record(z.string(), z.string()).optional().pipe(LabelsSchema.optional()),
    kernelReleases: z.array(KernelReleaseSchema).max(500).optional(),
    distros: z.array(DistroIdSchema).max(50).optional(),
    hostIds: z.array(z.string().uuid("host ids are UUIDs")).max(10_000).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const criteria = Object.keys(s.labels ?? {}).length + (s.kernelReleases?.length ?? 0) + (s.distros?.length ?? 0);
    if (s.all && (criteria > 0 || s.hostIds?.length)) ctx.addIssue({ code: "custom", message: "`all` matches every host; give no other criteria with it" });
    if (!s.all && criteria === 0 && !s.hostIds?.length) {
      ctx.addIssue({ code: "custom", message: "a selector needs labels, kernel releases, distros or hosts (or all: true for every host)" });
    }
  });
export type GroupSelector = z.infer<typeof GroupSelectorSchema>;

export const GroupNameSchema = z
  .string()
  .trim()
  .min(1, "name is required")
  .max(64, "names are at most 64 characters")
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._/-]*$/, "names: letters, digits, spaces and . _ / - (starting with a letter or digit)");
export const GroupCreateSchema = z.object({
  name: GroupNameSchema,
  description: storableText().trim().max(2000).default(""),
  selector: GroupSelectorSchema,
});
export type GroupCreate = z.infer<typeof GroupCreateSchema>;
export const GroupUpdateSchema = GroupCreateSchema.partial().refine((b) => Object.keys(b).length > 0, "nothing to change");

/** A staged patch as it stands in a group: how many members still need it. */
export const GroupPatchStatusSchema = z.object({
  patchId: z.string(),
  title: z.string(),
  cves: z.array(z.string()),
  severity: SeveritySchema,
  verdict: VerdictSchema,
  /** Members whose kernel the patch targets. */
  targeted: z.number(),
  /** Of those, members where the patch is live. */
  applied: z.number(),
  /** Targeted members without it: what a rollout would patch. */
  missing: z.number(),
  /** A rollout of this patch to this group that is not finished. */
  activeRolloutId: z.string().nullable(),
  /** Some release's build of the patch made a module (the verdict that counts, over the preview's). */
  anyBuilt: z.boolean(),
});
export type GroupPatchStatus = z.infer<typeof GroupPatchStatusSchema>;

export const GroupSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  selector: GroupSelectorSchema,
  createdBy: z.string(),
  createdAt: z.string(),
  memberCount: z.number(),
  onlineCount: z.number(),
  kernelReleases: z.array(z.object({ kernelRelease: z.string(), hosts: z.number() })),
  /** Staged patches not yet live on every targeted member. */
  patches: z.array(GroupPatchStatusSchema),
});
export type Group = z.infer<typeof GroupSchema>;

export const GroupPreviewBodySchema = z.object({ selector: GroupSelectorSchema });
export const GroupPreviewSchema = z.object({
  memberCount: z.number(),
  onlineCount: z.number(),
  kernelReleases: z.array(z.object({ kernelRelease: z.string(), hosts: z.number() })),
  /** Up to 20 members, by hostname. */
  sample: z.array(z.object({ id: z.string(), hostname: z.string() })),
});
export type GroupPreview = z.infer<typeof GroupPreviewSchema>;

// ---- exposure ----
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

// ---- rollouts ----
const PERCENT_RE = /^(\d{1,3}(\.\d{1,2})?)%$/;
/** A number of hosts, or a share of them written as a percentage ("25%"). */
export const CountOrPercentSchema = z.union([
  z.number().int("a host count must be a whole number").min(0, "a host count cannot be negative"),
  z
    .string()
    .trim()
    .superRefine((s, ctx) => {
      if (!PERCENT_RE.test(s)) ctx.addIssue({ code: "custom", message: 'a host count (e.g. 5) or a percentage (e.g. "25%")' });
      else if (Number(s.slice(0, -1)) > 100) ctx.addIssue({ code: "custom", message: "a percentage is at most 100%" });
    }),
], { error: 'a host count (e.g. 5) or a percentage (e.g. "25%")' });
export type CountOrPercent = z.infer<typeof CountOrPercentSchema>;

/** How many hosts `spec` means out of `total`: percentages round up, so "1%" of 10 hosts is 1. */
export function resolveCount(spec: CountOrPercent, total: number): number {
  if (typeof spec === "number") return spec;
  return Math.max(0, Math.ceil((Number(spec.slice(0, -1)) / 100) * total - 1e-9));
}

export const RolloutStrategySchema = z
  .object({
    /** Hosts patched first, on their own, before any wave. */
    canary: z.number().int().min(0).max(1000, "at most 1,000 canary hosts").default(1),
    /** Size of each wave after the canary. */
    waves: CountOrPercentSchema.default("25%"),
    /** Hosts with a job in flight at once, across the rollout. */
    maxInFlight: z.number().int().min(1, "at least 1 host must be allowed in flight").max(10_000).default(50),
    /** Failures (failed or unreachable hosts) tolerated across the rollout; one more pauses it. A failed canary always does. */
    failureBudget: CountOrPercentSchema.default(0),
    /** Wait for an operator's approval once the canary succeeded. */
    pauseAfterCanary: z.boolean().default(false),
    waitBetweenWavesSec: z.number().int().min(0).max(86_400, "at most a day between waves").default(0),
    /** A host without a result after this long is failed (online) or unreachable (offline). */
    hostTimeoutSec: z.number().int().min(5, "a host needs at least 5 s").max(86_400, "at most a day per host").default(120),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.waves === 0 || s.waves === "0%" || (typeof s.waves === "string" && Number(s.waves.slice(0, -1)) === 0)) {
      ctx.addIssue({ code: "custom", path: ["waves"], message: "a wave needs at least 1 host (or more than 0%)" });
    }
    if (s.pauseAfterCanary && s.canary === 0) {
      ctx.addIssue({ code: "custom", path: ["pauseAfterCanary"], message: "pausing after the canary needs at least one canary host" });
    }
  });
export type RolloutStrategy = z.infer<typeof RolloutStrategySchema>;
export type RolloutStrategyInput = z.input<typeof RolloutStrategySchema>;

export const RolloutCreateSchema = z.object({
  patchId: z.string().uuid("patchId is a patch's id (a UUID)"),
  groupId: z.string().uuid("groupId is a group's id (a UUID)"),
  strategy: RolloutStrategySchema.optional(),
});
export type RolloutCreate = z.infer<typeof RolloutCreateSchema>;

/** The database enum; lib/rollouts/states.ts names their sets and orders. */
export const RolloutHostStateSchema = z.enum(DbRolloutHostState);
export type RolloutHostState = z.infer<typeof RolloutHostStateSchema>;

export const RolloutStatusSchema = z.enum(["running", "paused", "aborting", "aborted", "completed"]);
export type RolloutStatus = z.infer<typeof RolloutStatusSchema>;
export const RolloutKindSchema = z.enum(["apply", "rollback"]);

const StateCountsSchema = z.partialRecord(RolloutHostStateSchema, z.number());

/** What a rollout would do, shown before it starts (and its plan, once started). */
export const RolloutPreviewSchema = z.object({
  patch: z.object({ id: z.string(), title: z.string(), cves: z.array(z.string()), verdict: VerdictSchema }),
  group: z.object({ id: z.string(), name: z.string() }),
  strategy: RolloutStrategySchema,
  /** Members of the group now. */
  members: z.number(),
  /** Hosts the rollout would patch. */
  toPatch: z.number(),
  skipped: z.array(z.object({ reason: z.string(), hosts: z.number() })),
  kernelReleases: z.array(
    z.object({ kernelRelease: z.string(), hosts: z.number(), build: z.union([BuildStatusSchema, z.literal("missing")]) }),
  ),
  /** Releases without a build yet: the rollout queues them and their hosts wait. */
  buildsMissing: z.number(),
  /** Hosts per wave; wave 0 is the canary. */
  waves: z.array(z.number()),
  offline: z.number(),
});
export type RolloutPreview = z.infer<typeof RolloutPreviewSchema>;

export const RolloutSummarySchema = z.object({
  id: z.string(),
  number: z.number(),
  kind: RolloutKindSchema,
  status: RolloutStatusSchema,
  pauseKind: z.enum(["approval", "failures", "operator"]).nullable(),
  pauseReason: z.string().nullable(),
  patch: z.object({ id: z.string(), title: z.string(), cves: z.array(z.string()), moduleName: z.string() }),
  group: z.object({ id: z.string().nullable(), name: z.string() }),
  rollbackOfId: z.string().nullable(),
  rollbackId: z.string().nullable(),
  strategy: RolloutStrategySchema,
  hostCount: z.number(),
  counts: StateCountsSchema,
  /** Failures counted against the budget, and the budget in hosts. */
  failures: z.number(),
  failureBudget: z.number(),
  currentWave: z.number(),
  waveCount: z.number(),
  nextWaveAt: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type RolloutSummary = z.infer<typeof RolloutSummarySchema>;

export const RolloutHostSchema = z.object({
  hostId: z.string(),
  hostname: z.string(),
  kernelRelease: z.string(),
  wave: z.number().nullable(),
  state: RolloutHostStateSchema,
  error: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type RolloutHost = z.infer<typeof RolloutHostSchema>;

export const RolloutDetailSchema = RolloutSummarySchema.extend({
  waves: z.array(z.object({ index: z.number(), hosts: z.number(), counts: StateCountsSchema })),
  hosts: z.array(RolloutHostSchema),
});
export type RolloutDetail = z.infer<typeof RolloutDetailSchema>;

export const RolloutDetailQuerySchema = z.object({
  /** Only hosts in these states; `hosts=none` leaves the host list out. */
  state: z.union([RolloutHostStateSchema, z.array(RolloutHostStateSchema)]).optional().transform((s) => (s === undefined ? undefined : Array.isArray(s) ? s : [s])),
  hosts: z.enum(["all", "none"]).default("all"),
});

export const RolloutHostsQuerySchema = z.object({
  state: z.union([RolloutHostStateSchema, z.array(RolloutHostStateSchema)]).optional().transform((s) => (s === undefined ? undefined : Array.isArray(s) ? s : [s])),
  q: storableText().trim().max(200).optional(),
  wave: z.coerce.number().int().min(0).max(1_000_000, "wave is a wave's number").optional(),
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export const RolloutHostListSchema = z.object({ items: z.array(RolloutHostSchema), total: z.number() });

export const RolloutHostDetailSchema = RolloutHostSchema.extend({
  log: z.string(),
  blockingTasks: z.array(z.object({ pid: z.number(), comm: z.string() })).nullable(),
  dispatchedAt: z.string().nullable(),
  deadlineAt: z.string().nullable(),
});
export type RolloutHostDetail = z.infer<typeof RolloutHostDetailSchema>;

export const RolloutListQuerySchema = z.object({
  status: z.union([RolloutStatusSchema, z.array(RolloutStatusSchema)]).optional().transform((s) => (s === undefined ? undefined : Array.isArray(s) ? s : [s])),
  patchId: z.string().uuid().optional(),
  groupId: z.string().uuid().optional(),
  hostId: z.string().uuid().optional(),
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export const RolloutListSchema = z.object({
  items: z.array(
    RolloutSummarySchema.extend({
      /** With `hostId`: that host's state and error in each rollout. */
      hostResult: z.object({ state: RolloutHostStateSchema, error: z.string().nullable() }).optional(),
    }),
  ),
  total: z.number(),
});
export type RolloutListItem = z.infer<typeof RolloutListSchema>["items"][number];

export const RolloutActionSchema = z.object({ reason: storableText().trim().max(500).default("") });
