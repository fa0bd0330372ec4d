// API schemas: patches and their builds. lib/api/schemas/index.ts exports every domain's.
import { z } from "zod";
import { CREATED } from "./common";
import { storableText } from "@/agent/protocol";
import { BuildOutcome as DbBuildOutcome, BuildStatus as DbBuildStatus } from "@/lib/generated/prisma/enums";

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

/** What names a staged patch wherever it is listed: title, CVEs, severity and the staging verdict. */
export const PATCH_FACTS = { title: z.string(), cves: z.array(z.string()), severity: SeveritySchema, verdict: VerdictSchema };

export const PatchSummarySchema = z.object({
  id: z.string(),
  ...PATCH_FACTS,
  functions: z.array(z.string()),
  targetReleases: z.array(z.string()),
  ...CREATED,
  /** Taken out of use (lib/patches/withdraw.ts): no new rollouts or builds, later patches are not built on it. */
  withdrawn: z.object({ at: z.string(), by: z.string(), reason: z.string() }).nullable(),
});
export type PatchSummary = z.infer<typeof PatchSummarySchema>;

export const PatchDetailSchema = PatchSummarySchema.extend({
  description: z.string(),
  diff: z.string(),
  diffSha256: z.string(),
  /** lib/analysis/types.ts PatchAnalysis: files, functions, findings, verdict reasons. */
  analysis: z.record(z.string(), z.unknown()),
  /** One per kernel release: built once, whatever the number of hosts running it. */
  builds: z.array(z.lazy(() => BuildSchema)),
});
export type PatchDetail = z.infer<typeof PatchDetailSchema>;

/** Where a build stands (the database enum, one definition). */
export const BuildStatusSchema = z.enum(DbBuildStatus);
export type BuildStatus = z.infer<typeof BuildStatusSchema>;
/** Each build status by name (`BUILD_STATUS.succeeded`): code never spells one as a string. */
export const BUILD_STATUS = BuildStatusSchema.enum;
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
/** Each build outcome by name (`BUILD_OUTCOME.already_fixed`). */
export const BUILD_OUTCOME = BuildOutcomeSchema.enum;
/** What a built module replaces and adds, per release. */
export const BuildReportSchema = z.object({
  /** The exact source the module was built from, e.g. Debian 6.1.192-1 (Linux 6.1.192). */
  source: z.string().optional(),
  /** Each function the module replaces: its klp_object (vmlinux or a module), kallsyms position among same-named symbols, source file. */
  replaced: z.array(z.object({ object: z.string(), function: z.string(), sympos: z.number().int(), file: z.string() })),
  /** Functions the patch adds (called by the replaced ones). */
  added: z.array(z.object({ object: z.string(), function: z.string(), file: z.string() })),
  /**
   * Earlier patches of the same files whose fix is in this build's pre-image (applied before this
   * patch, in staging order), each with the functions both replace: a build sharing a function
   * with one was built on top of it and loads only where it is live (lib/builds/stacking.ts).
   */
  includes: z.array(z.object({ patchId: z.string(), title: z.string(), functions: z.array(z.string()) })).default([]),
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
/** `POST /api/v1/patches/{id}/withdraw`. */
export const PatchWithdrawSchema = z.object({ reason: storableText().trim().min(1, "say why the patch is withdrawn").max(500) });
export type PatchWithdraw = z.infer<typeof PatchWithdrawSchema>;

export const EnsureBuildsSchema = z.object({ kernelReleases: z.array(KernelReleaseSchema).max(500).optional() });
