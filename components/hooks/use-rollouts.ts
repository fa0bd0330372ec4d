"use client";
import * as React from "react";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type {
  RolloutDetail,
  RolloutHost,
  RolloutHostDetail,
  RolloutHostState,
  RolloutPreview,
  RolloutStatus,
  RolloutStrategyInput,
  RolloutSummary,
  RolloutListItem,
} from "@/lib/api/schemas";
import { ApiRequestError, apiFetch } from "../api";
import { qk } from "./keys";
import { useRealtime } from "./realtime-provider";
import { ACTIVE_ROLLOUT_STATUSES } from "@/lib/api/schemas";

const notFound = (e: unknown) => e instanceof ApiRequestError && (e.status === 404 || e.status === 400);

export interface RolloutsFilter {
  status?: RolloutStatus[];
  patchId?: string;
  groupId?: string;
  hostId?: string;
  offset?: number;
  limit?: number;
}

/** Slow polling only while the socket is down; with it, "rollouts:changed" refetches. */
function useFallbackPoll(active: boolean): number | false {
  const live = useRealtime().status === "live";
  return !live && active ? 5_000 : false;
}

export function useRollouts(filter: RolloutsFilter, opts: { enabled?: boolean } = {}) {
  const poll = useFallbackPoll(true);
  return useQuery({
    queryKey: qk.rolloutList(filter),
    enabled: opts.enabled ?? true,
    queryFn: ({ signal }) => apiFetch<{ items: RolloutListItem[]; total: number }>("/rollouts", { query: { ...filter, status: filter.status }, signal }),
    placeholderData: keepPreviousData,
    refetchInterval: poll,
  });
}

export const isActive = (s: RolloutStatus) => (ACTIVE_ROLLOUT_STATUSES as readonly RolloutStatus[]).includes(s);

export function useRollout(id: string | null | undefined) {
  const live = useRealtime().status === "live";
  return useQuery({
    queryKey: qk.rollout(id ?? ""),
    enabled: !!id,
    queryFn: ({ signal }) => apiFetch<RolloutDetail>(`/rollouts/${encodeURIComponent(id!)}`, { query: { hosts: "none" }, signal }),
    refetchInterval: (q) => (!live && q.state.data && isActive(q.state.data.status) ? 5_000 : false),
    retry: (n, e) => !notFound(e) && n < 2,
  });
}

export interface RolloutHostsFilter {
  state?: RolloutHostState[];
  q?: string;
  wave?: number;
  offset: number;
  limit: number;
}

export function useRolloutHosts(id: string, filter: RolloutHostsFilter, active: boolean) {
  const poll = useFallbackPoll(active);
  return useQuery({
    queryKey: qk.rolloutHosts(id, filter),
    queryFn: ({ signal }) => apiFetch<{ items: RolloutHost[]; total: number }>(`/rollouts/${encodeURIComponent(id)}/hosts`, { query: { ...filter }, signal }),
    placeholderData: keepPreviousData,
    refetchInterval: poll,
  });
}

export function useRolloutHost(id: string, hostId: string | null, active: boolean) {
  const poll = useFallbackPoll(active);
  return useQuery({
    queryKey: qk.rolloutHost(id, hostId ?? ""),
    enabled: !!hostId,
    queryFn: ({ signal }) => apiFetch<RolloutHostDetail>(`/rollouts/${encodeURIComponent(id)}/hosts/${encodeURIComponent(hostId!)}`, { signal }),
    refetchInterval: poll,
  });
}

/**
 * What a rollout of `patchId` to `groupId` would do, asked again (debounced) whenever the
 * strategy changes. A strategy the server refuses comes back as the query's error.
 */
export function useRolloutPreview(input: { patchId: string; groupId: string; strategy?: RolloutStrategyInput } | null, delayMs = 300) {
  const json = JSON.stringify(input);
  const [debounced, setDebounced] = React.useState(json);
  React.useEffect(() => {
    // The first ask goes out at once; edits wait until typing pauses.
    const t = setTimeout(() => setDebounced(json), debounced === "null" ? 0 : delayMs);
    return () => clearTimeout(t);
  }, [json, delayMs, debounced]);
  const body = JSON.parse(debounced) as typeof input;
  return {
    ...useQuery({
      queryKey: qk.rolloutPreview(body),
      enabled: body !== null,
      queryFn: ({ signal }) => apiFetch<RolloutPreview>("/rollouts/preview", { method: "POST", body, signal }),
      placeholderData: keepPreviousData,
      retry: false,
      staleTime: 0,
    }),
    /** The strategy on screen differs from the one last asked about. */
    pending: json !== debounced,
  };
}

export function useStartRollout() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { patchId: string; groupId: string; strategy?: RolloutStrategyInput }) =>
      apiFetch<RolloutSummary>("/rollouts", { method: "POST", body }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: qk.rollouts });
      void qc.invalidateQueries({ queryKey: qk.groups });
    },
  });
}

export type RolloutAction = "pause" | "resume" | "approve" | "abort" | "rollback";

export function useRolloutAction(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ action, reason }: { action: RolloutAction; reason?: string }) =>
      apiFetch<RolloutSummary>(`/rollouts/${encodeURIComponent(id)}/${action}`, { method: "POST", body: { reason: reason ?? "" } }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: qk.rollouts });
      void qc.invalidateQueries({ queryKey: qk.groups });
    },
  });
}
