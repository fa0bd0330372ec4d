// The one wire contract between the console and its agents. Both sides import these zod schemas;
// nothing else crosses the wire. Keep this file free of Node- or Next-specific imports.
import { z } from "zod";

export const PROTOCOL_VERSION = 1;

/** Largest JSON message either side accepts on the agent namespace (bytes). */
export const MAX_MESSAGE_BYTES = 256 * 1024;

// ---- text Postgres can store ----

// NUL and unpaired UTF-16 surrogates: Postgres refuses the first in text and both in jsonb, and
// one such value used to fail a whole batched statement (every host's rows in it).
const UNSTORABLE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `s` cannot be stored as text by Postgres, or null when it can. */
export function unstorableText(s: string): string | null {
  const m = UNSTORABLE_TEXT.exec(s);
  if (!m) return null;
  return m[0] === "\u0000"
    ? `contains a NUL character (\\u0000) at offset ${m.index}, which cannot be stored`
    : `contains an unpaired UTF-16 surrogate (\\u${m[0].charCodeAt(0).toString(16)}) at offset ${m.index}, which is not valid Unicode text`;
}

/** A string Postgres can store: every string field of the wire contract and of the API uses it. */
export const storableText = () =>
  z.string().superRefine((s, ctx) => {
    const why = unstorableText(s);
    if (why) ctx.addIssue({ code: "custom", message: why });
  });

/** Makes text storable, for what an agent sends of its own (command output, file contents). */
export function toStorableText(s: string): string {
  return unstorableText(s) === null ? s : s.replace(new RegExp(UNSTORABLE_TEXT.source, "g"), "\uFFFD");
}

const shortText = (max: number) => storableText().max(max);

export const LivepatchSchema = z.object({
  /** Directory name under /sys/kernel/livepatch, e.g. `livepatch_cve_2024_1086`. */
  name: z.string().min(1).max(128).regex(/^[A-Za-z0-9_.-]+$/, "livepatch name: letters, digits, _ . - only"),
  enabled: z.boolean(),
  /** True while the kernel is still switching tasks to (or away from) the patch. */
  transition: z.boolean(),
});
export type Livepatch = z.infer<typeof LivepatchSchema>;

export const InventorySchema = z.object({
  hostname: shortText(253).min(1),
  machineId: shortText(64).min(1),
  bootId: shortText(64),
  kernelRelease: shortText(128).min(1),
  kernelVersion: shortText(256),
  distro: z.object({
    id: shortText(64),
    name: shortText(128),
    version: shortText(64),
  }),
  arch: shortText(32),
  uptimeSec: z.number().int().nonnegative().max(2 ** 31 - 1),
  cpuCount: z.number().int().nonnegative().max(65536),
  memoryBytes: z.number().int().nonnegative(),
  livepatches: z.array(LivepatchSchema).max(512),
  agentVersion: shortText(64),
  /** What the agent did with the patches it keeps when it started on this boot (absent before it ever did). */
  reload: z.lazy(() => ReloadReportSchema).optional(),
});
export type Inventory = z.infer<typeof InventorySchema>;

/** What became of one kept patch when the agent started on a new boot. */
export const RELOAD_OUTCOMES = [
  /** Loaded again (hash and signature checked again first). */
  "loaded",
  /** Already live (loaded by something else, or this boot already reloaded it). */
  "already_live",
  /** Not tried: reloading is turned off for this host's groups. */
  "disabled",
  /** Not tried: the host runs another kernel than the one the patch was built for. */
  "other_kernel",
  /** Refused before loading: the kept file's hash or signature does not verify, or it is missing. */
  "refused",
  /** The kernel did not take it (insmod failed, transition stalled). */
  "failed",
] as const;
export type ReloadOutcome = (typeof RELOAD_OUTCOMES)[number];
export const ReloadOutcomeSchema = z.enum(RELOAD_OUTCOMES);
/** Each outcome by name (`RELOAD.loaded`). */
export const RELOAD = ReloadOutcomeSchema.enum;

export const ReloadReportSchema = z.object({
  /** The boot the agent started on. */
  bootId: shortText(64),
  /** When it finished, ISO 8601. */
  at: shortText(40),
  patches: z
    .array(
      z.object({
        moduleName: LivepatchSchema.shape.name,
        patchId: shortText(64),
        kernelRelease: shortText(128),
        outcome: ReloadOutcomeSchema,
        /** Why, for refused and failed (and which kernel, for other_kernel). */
        reason: shortText(1000).optional(),
      }),
    )
    .max(512),
});
export type ReloadReport = z.infer<typeof ReloadReportSchema>;

// ---- enrollment (HTTP, before the agent has a credential) ----

/** `POST /api/v1/agent/enroll` */
export const EnrollRequestSchema = z
  .object({
    /** Needed for a new host; optional when `previous` proves the host already (credential rotation). */
    enrollmentToken: storableText().min(8).max(256).optional(),
    hostname: shortText(253).min(1),
    machineId: shortText(64).min(1),
    /**
     * The credential this agent held before (kept aside when the console refused it). A valid one
     * gets the same host a new credential; the machine id alone never does (it is no secret).
     */
    previous: z.object({ hostId: z.uuid(), credential: storableText().min(32).max(256) }).optional(),
  })
  .refine((r) => r.enrollmentToken !== undefined || r.previous !== undefined, {
    message: "give an enrollmentToken, or previous (the host's current credential)",
    path: ["enrollmentToken"],
  });
export type EnrollRequest = z.infer<typeof EnrollRequestSchema>;

export const EnrollResponseSchema = z.object({
  hostId: z.string().uuid(),
  /** Secret the agent keeps (mode 0600) and presents on every connection. Shown once. */
  credential: z.string().min(32),
  /** The console's Ed25519 artifact-signing public key (PEM), pinned by the agent. */
  consolePublicKey: z.string().min(1).optional(),
});
export type EnrollResponse = z.infer<typeof EnrollResponseSchema>;

// ---- socket.io namespace /agent ----

export const AGENT_NAMESPACE = "/agent";

/** `socket.handshake.auth` on /agent. */
export const AgentAuthSchema = z.object({
  hostId: z.string().uuid(),
  credential: storableText().min(32).max(256),
  protocol: z.literal(PROTOCOL_VERSION),
});
export type AgentAuth = z.infer<typeof AgentAuthSchema>;

export const HeartbeatSchema = z.object({
  uptimeSec: z.number().int().nonnegative().max(2 ** 31 - 1),
});
export type Heartbeat = z.infer<typeof HeartbeatSchema>;

/** Ack of every agent → console message. */
export type Ack =
  | { ok: true }
  /** `retry`: the console could not store it this time (its database failed); send it again later. */
  | { ok: false; error: string; retry?: boolean };

/** Sent by the console right after a connection is accepted. */
export const AgentConfigSchema = z.object({
  heartbeatIntervalSec: z.number().int().min(1).max(3600),
  /**
   * Whether the agent loads the patches it keeps again when the host boots into the same kernel
   * (off when any group of the host turns it off). Absent from consoles that predate it: keep
   * what the agent had.
   */
  reloadAtBoot: z.boolean().optional(),
});
export type AgentConfig = z.infer<typeof AgentConfigSchema>;

export interface AgentToConsoleEvents {
  inventory: (inv: Inventory, ack: (a: Ack) => void) => void;
  heartbeat: (hb: Heartbeat, ack: (a: Ack) => void) => void;
  /** Progress or result of a job; sent again after a reconnect until acknowledged. */
  job_update: (u: JobUpdate, ack: (a: Ack) => void) => void;
}

export interface ConsoleToAgentEvents {
  config: (cfg: AgentConfig) => void;
  /** A message was refused; repeated refusals close the connection. */
  protocol_error: (e: { event: string; error: string }) => void;
  /** The host was revoked or decommissioned: forget the credential, do not reconnect. */
  revoked: (e: { reason: string }) => void;
  /** Do this job (or, if it is already known by its id, report where it stands). */
  job: (job: Job, ack: (a: JobAck) => void) => void;
}

/** `connect_error` messages the console uses, so the agent can tell "retry" from "give up". */
export const CONNECT_ERRORS = {
  badAuth: "invalid credential",
  revoked: "host revoked",
  protocol: "unsupported protocol version",
} as const;

// ---- artifacts (issue 3): what the console signs and the agent verifies before loading ----

/** The fields an artifact signature covers. */
export interface ArtifactSignedFields {
  artifactSha256: string;
  patchId: string;
  kernelRelease: string;
  moduleName: string;
}

/**
 * The exact text signed (Ed25519, over its UTF-8 bytes) by the console and verified by the agent:
 * one line per field in a fixed order, so neither side depends on a JSON serializer's key order.
 */
export function artifactSignaturePayload(f: ArtifactSignedFields): string {
  return ["splicer-artifact-v1", `sha256=${f.artifactSha256}`, `patch=${f.patchId}`, `release=${f.kernelRelease}`, `module=${f.moduleName}`].join("\n");
}

/** `GET /api/v1/agent/artifacts/:buildId`: authenticated with these headers, answered with the
 * artifact's bytes and the signed fields in the response headers. */
export const AGENT_HOST_HEADER = "x-splicer-host-id";
export const ARTIFACT_HEADERS = {
  sha256: "x-splicer-artifact-sha256",
  signature: "x-splicer-signature",
  patchId: "x-splicer-patch-id",
  kernelRelease: "x-splicer-kernel-release",
  moduleName: "x-splicer-module-name",
} as const;

/** `POST /api/v1/agent/artifacts/:buildId/rejections`: the agent refused an artifact (bad hash or
 * signature, wrong kernel); the console records it in the audit log and the host's timeline. */
export const ArtifactRejectionSchema = z.object({
  reason: storableText().min(1).max(1000),
  receivedSha256: storableText().max(128).optional(),
});
export type ArtifactRejection = z.infer<typeof ArtifactRejectionSchema>;

// ---- jobs (issue 4): the console asks an agent to apply or revert a livepatch ----

/**
 * One unit of work for one host. `jobId` is the rollout's per-host row id: the agent keeps every
 * job it has seen by id, so a repeated `job` message (console restart, reconnect, two consoles)
 * never runs the same job twice; the agent answers with where that job stands instead.
 */
/** At most this many livepatches named in one job's stacking lists. */
export const MAX_STACK = 256;

export const JobSchema = z.object({
  jobId: z.string().uuid(),
  kind: z.enum(["apply", "revert"]),
  patchId: z.string().uuid(),
  /** The build to download (apply only; a revert needs no artifact). */
  buildId: z.string().uuid().optional(),
  /** The livepatch module, also its /sys/kernel/livepatch/<name> directory. */
  moduleName: LivepatchSchema.shape.name,
  /** The release the console believes the host runs; the agent refuses the job if it differs. */
  kernelRelease: shortText(128).min(1),
  /** The whole job, download to verification, must finish within this. */
  timeoutSec: z.number().int().min(1).max(86_400),
  /**
   * Livepatches replacing the same function stack: the one enabled last runs. An apply needs
   * these live first (its build was built on them: its code carries their fixes too).
   */
  requires: z.array(LivepatchSchema.shape.name).max(MAX_STACK).default([]),
  /**
   * None of these may be live. Apply: they replace a function this build replaces without being
   * in it, so loading it would undo their fix. Revert: they were built on this one, and taking it
   * out under them would leave half of it.
   */
  blockedBy: z.array(LivepatchSchema.shape.name).max(MAX_STACK).default([]),
});
export type Job = z.infer<typeof JobSchema>;

/**
 * Why a job cannot run with these livepatches live (enabled), or null. One rule for the agent's
 * jobs and its reload at boot.
 */
export function stackingRefusal(job: { kind: "apply" | "revert"; moduleName: string; requires?: readonly string[]; blockedBy?: readonly string[] }, live: ReadonlySet<string>): string | null {
  if (job.kind === "apply") {
    const missing = (job.requires ?? []).filter((m) => !live.has(m));
    if (missing.length > 0) return `${job.moduleName} was built on top of ${missing.join(", ")}, which ${missing.length === 1 ? "is" : "are"} not live here: ${missing.length === 1 ? "it has" : "they have"} to be applied first; not loading it`;
  }
  const blocking = (job.blockedBy ?? []).filter((m) => live.has(m));
  if (blocking.length === 0) return null;
  return job.kind === "apply"
    ? `${blocking.join(", ")} ${blocking.length === 1 ? "is" : "are"} live and change${blocking.length === 1 ? "s" : ""} a function ${job.moduleName} replaces without ${blocking.length === 1 ? "its" : "their"} fix: loading it would undo ${blocking.length === 1 ? "that fix" : "those fixes"}; not loading it`
    : `${blocking.join(", ")} ${blocking.length === 1 ? "was" : "were"} built on top of ${job.moduleName} and ${blocking.length === 1 ? "is" : "are"} live: ${blocking.length === 1 ? "it has" : "they have"} to be reverted first; not reverting it`;
}

/** Where a job stands, as the agent reports it. The last two are final. */
export const JOB_PHASES = ["accepted", "downloading", "applying", "verifying", "succeeded", "failed"] as const;
export type JobPhase = (typeof JOB_PHASES)[number];
export const JobPhaseSchema = z.enum(JOB_PHASES);
/** Each phase by name (`JOB_PHASE.applying`): code names a phase through this, never as a string. */
export const JOB_PHASE = JobPhaseSchema.enum;
export const FINAL_JOB_PHASES: readonly JobPhase[] = [JOB_PHASE.succeeded, JOB_PHASE.failed];

/** A task the kernel could not switch to (or away from) the patch: from /proc/<pid>/patch_state. */
export const BlockingTaskSchema = z.object({ pid: z.number().int().nonnegative(), comm: shortText(64) });
export type BlockingTask = z.infer<typeof BlockingTaskSchema>;

export const MAX_JOB_LOG_LINES = 200;

export const JobUpdateSchema = z.object({
  jobId: z.string().uuid(),
  phase: JobPhaseSchema,
  /** Why it failed, one sentence an operator can act on (final `failed` only). */
  error: shortText(2000).optional(),
  /** The job's log so far (the newest lines when longer), each line at most 1000 characters. */
  log: z.array(shortText(1000)).max(MAX_JOB_LOG_LINES).default([]),
  /** Tasks that blocked a livepatch transition, when that is why it failed. */
  blockingTasks: z.array(BlockingTaskSchema).max(64).optional(),
  /** When the agent finished the job (final phases), ISO 8601. */
  finishedAt: z.string().datetime().optional(),
});
export type JobUpdate = z.input<typeof JobUpdateSchema>;

/** The agent's answer to `job`: accepted (or already known, with its phase), or refused. */
export type JobAck = { ok: true; phase: JobPhase } | { ok: false; error: string };
