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
};
