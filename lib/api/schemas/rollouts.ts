// API schemas: rollouts, their strategy, plan and host results. lib/api/schemas/index.ts exports every domain's.
import { z } from "zod";
import { CREATED } from "./common";
import { storableText } from "@/agent/protocol";
import { RolloutHostState as DbRolloutHostState, RolloutStatus as DbRolloutStatus } from "@/lib/generated/prisma/enums";
import { BuildStatusSchema, VerdictSchema } from "./patches";

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

export const RolloutStatusSchema = z.enum(DbRolloutStatus);
export type RolloutStatus = z.infer<typeof RolloutStatusSchema>;
/** Each rollout status by name (`ROLLOUT_STATUS.paused`). */
export const ROLLOUT_STATUS = RolloutStatusSchema.enum;
/** Not finished: the engine advances it, an operator can act on it, its group cannot be deleted. */
export const ACTIVE_ROLLOUT_STATUSES = [ROLLOUT_STATUS.running, ROLLOUT_STATUS.paused, ROLLOUT_STATUS.aborting] as const satisfies readonly RolloutStatus[];
export const RolloutKindSchema = z.enum(["apply", "rollback"]);

const StateCountsSchema = z.partialRecord(RolloutHostStateSchema, z.number());

/** What a rollout would do, shown before it starts (and its plan, once started). */
export const RolloutPreviewSchema = z.object({
  patch: z.object({ id: z.string(), title: z.string(), cves: z.array(z.string()), verdict: VerdictSchema }),
  /** null for a rollout to named hosts (re-applying a patch they lost). */
  group: z.object({ id: z.string().nullable(), name: z.string() }),
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
  ...CREATED,
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
