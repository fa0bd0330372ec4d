"use client";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import type { AuditEvent, AuditVerify } from "@/lib/api/schemas";
import { apiFetch, toQueryString } from "../api";
import { qk } from "./keys";

export interface AuditFilter {
  actor?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  /** Events of this host and of every rollout that touched it. */
  host?: string;
  /** ISO timestamps */
  from?: string;
  to?: string;
}

const PAGE = 100;

export function useAudit(filter: AuditFilter) {
  return useInfiniteQuery({
    queryKey: qk.audit(filter),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) =>
      apiFetch<{ items: AuditEvent[]; nextBefore: string | null }>("/audit", {
        query: { ...filter, before: pageParam, limit: PAGE },
        signal,
      }),
    getNextPageParam: (last) => last.nextBefore ?? undefined,
  });
}

export function auditExportUrl(filter: AuditFilter): string {
  return `/api/v1/audit/export.csv${toQueryString({ ...filter })}`;
}

export function useAuditVerify(enabled: boolean) {
  return useQuery({
    queryKey: qk.auditVerify,
    queryFn: ({ signal }) => apiFetch<AuditVerify>("/audit/verify", { signal }),
    enabled,
    staleTime: 60_000,
    retry: false,
  });
}
