import type { HostsFilter } from "./use-hosts";
import type { AuditFilter } from "./use-audit";

/** Every query key in one place, so live updates invalidate exactly what they should. */
export const qk = {
  hosts: (f?: HostsFilter) => (f ? (["hosts", f] as const) : (["hosts"] as const)),
  host: (id?: string) => (id ? (["host", id] as const) : (["host"] as const)),
  hostSearch: (q: string) => ["hosts", "search", q] as const,
  fleetSummary: ["fleet-summary"] as const,
  enrollmentTokens: ["enrollment-tokens"] as const,
  operators: ["operators"] as const,
  apiTokens: ["api-tokens"] as const,
  settings: ["settings"] as const,
  audit: (f?: AuditFilter) => (f ? (["audit", f] as const) : (["audit"] as const)),
  auditVerify: ["audit-verify"] as const,
  /** Everything under "groups" changes when a group or its members' patches do. */
  groups: ["groups"] as const,
  groupList: ["groups", "list"] as const,
  group: (id: string) => ["groups", "detail", id] as const,
  groupPreview: (selector: unknown) => ["group-preview", selector] as const,
  exposure: (limit?: number) => (limit === undefined ? (["exposure"] as const) : (["exposure", limit] as const)),
  /** Everything under "rollouts" is refetched (throttled) on the socket's "rollouts:changed". */
  rollouts: ["rollouts"] as const,
  rolloutList: (f?: unknown) => (f === undefined ? (["rollouts", "list"] as const) : (["rollouts", "list", f] as const)),
  rollout: (id: string) => ["rollouts", "detail", id] as const,
  rolloutHosts: (id: string, f?: unknown) => (f === undefined ? (["rollouts", "hosts", id] as const) : (["rollouts", "hosts", id, f] as const)),
  rolloutHost: (id: string, hostId?: string) => (hostId ? (["rollouts", "host", id, hostId] as const) : (["rollouts", "host", id] as const)),
  rolloutPreview: (body: unknown) => ["rollout-preview", body] as const,
  /** Everything under "patches" is refetched on every audit event. */
  patches: ["patches"] as const,
  patchList: ["patches", "list"] as const,
  patch: (id: string) => ["patches", "detail", id] as const,
  buildLog: (buildId: string) => ["patches", "build-log", buildId] as const,
  buildWorkers: ["patches", "build-workers"] as const,
};
