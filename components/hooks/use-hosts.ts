"use client";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { FleetSummary, Host, HostDetail, HostList, Labels } from "@/lib/api/schemas";
import { apiFetch } from "../api";
import { qk } from "./keys";

export type HostSort = "hostname" | "kernelRelease" | "distro" | "lastSeenAt" | "online" | "enrolledAt";

export interface HostsFilter {
  q?: string;
  kernel?: string;
  distro?: string;
  online?: "true" | "false";
  label?: string[];
  status?: "active" | "revoked" | "decommissioned";
  /** Members of this group (id). */
  group?: string;
  /** Hosts still exposed to this patch (id). */
  missing?: string;
  /** Hosts whose live patches differ from what their rollouts applied. */
  drifting?: "true";
  sort: HostSort;
  order: "asc" | "desc";
  limit: number;
  offset: number;
}

export function useHosts(filter: HostsFilter) {
  return useQuery({
    queryKey: qk.hosts(filter),
    queryFn: ({ signal }) => apiFetch<HostList>("/hosts", { query: { ...filter }, signal }),
    placeholderData: keepPreviousData,
  });
}

/** Small result set for the top bar's quick search. */
export function useHostSearch(q: string) {
  return useQuery({
    queryKey: qk.hostSearch(q),
    queryFn: ({ signal }) => apiFetch<HostList>("/hosts", { query: { q, limit: 6, sort: "hostname", order: "asc" }, signal }),
    enabled: q.trim().length > 0,
    placeholderData: keepPreviousData,
    staleTime: 5_000,
  });
}

export function useHost(id: string) {
  return useQuery({
    queryKey: qk.host(id),
    queryFn: ({ signal }) => apiFetch<HostDetail>(`/hosts/${encodeURIComponent(id)}`, { signal }),
  });
}

export function useFleetSummary() {
  return useQuery({
    queryKey: qk.fleetSummary,
    queryFn: ({ signal }) => apiFetch<FleetSummary>("/fleet/summary", { signal }),
    // "Stale" is a matter of time passing, not of an event: look again now and then.
    refetchInterval: 30_000,
  });
}

export function useUpdateHostLabels(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (labels: Labels) => apiFetch<unknown>(`/hosts/${encodeURIComponent(id)}`, { method: "PATCH", body: { labels } }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: qk.host(id) });
      void qc.invalidateQueries({ queryKey: qk.hosts() });
      void qc.invalidateQueries({ queryKey: qk.fleetSummary });
    },
  });
}

export function useRevokeHost(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { reason?: string; status?: "revoked" | "decommissioned" }) =>
      apiFetch<unknown>(`/hosts/${encodeURIComponent(id)}/revoke`, { method: "POST", body }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: qk.host(id) });
      void qc.invalidateQueries({ queryKey: qk.hosts() });
      void qc.invalidateQueries({ queryKey: qk.fleetSummary });
    },
  });
}

/** Admin: merge a possible duplicate into the host it duplicates, or restore a revoked host. */
export function useHostIdentityAction(id: string, action: "merge" | "restore") {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { reason?: string }) => apiFetch<Host>(`/hosts/${encodeURIComponent(id)}/${action}`, { method: "POST", body }),
    onSuccess: (h) => {
      void qc.invalidateQueries({ queryKey: qk.host(id) });
      void qc.invalidateQueries({ queryKey: qk.host(h.id) });
      void qc.invalidateQueries({ queryKey: qk.hosts() });
      void qc.invalidateQueries({ queryKey: qk.fleetSummary });
    },
  });
}

/** Operator: re-apply every patch the host lost (drift); one rollout per patch. */
export function useReapplyToHost(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => apiFetch<{ rollouts: string[] }>(`/hosts/${encodeURIComponent(id)}/reapply`, { method: "POST", body: {} }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: qk.host(id) });
      void qc.invalidateQueries({ queryKey: qk.rollouts });
    },
  });
}
