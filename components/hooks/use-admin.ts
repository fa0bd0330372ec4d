"use client";
import { useMutation, useQuery, useQueryClient, type QueryKey } from "@tanstack/react-query";
import type { ApiToken, EnrollmentToken, Operator, Role, Settings } from "@/lib/api/schemas";
import { apiFetch } from "../api";
import { qk } from "./keys";

export type EnrollmentTokenCreated = EnrollmentToken & { token: string };
export type ApiTokenCreated = ApiToken & { token: string };

/** An admin list at `path`, cached under `queryKey`. */
function useList<T>(queryKey: QueryKey, path: string, enabled: boolean) {
  return useQuery({
    queryKey,
    queryFn: ({ signal }) => apiFetch<{ items: T[] }>(path, { signal }),
    enabled,
  });
}

/** A change to an admin list: the list under `queryKey` is fetched again once it succeeds. */
function useListMutation<TVars, TData>(queryKey: QueryKey, mutationFn: (vars: TVars) => Promise<TData>) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn,
    onSuccess: () => void qc.invalidateQueries({ queryKey }),
  });
}

// ---- enrollment tokens ----
export function useEnrollmentTokens(enabled = true) {
  return useList<EnrollmentToken>(qk.enrollmentTokens, "/enrollment-tokens", enabled);
}

export function useCreateEnrollmentToken() {
  return useListMutation(qk.enrollmentTokens, (body: { note?: string; maxUses?: number; expiresInHours?: number }) =>
    apiFetch<EnrollmentTokenCreated>("/enrollment-tokens", { method: "POST", body }),
  );
}

export function useRevokeEnrollmentToken() {
  return useListMutation(qk.enrollmentTokens, (id: string) =>
    apiFetch<unknown>(`/enrollment-tokens/${encodeURIComponent(id)}`, { method: "DELETE" }),
  );
}

// ---- operators ----
export function useOperators(enabled = true) {
  return useList<Operator>(qk.operators, "/operators", enabled);
}

export function useCreateOperator() {
  return useListMutation(qk.operators, (body: { username: string; password: string; role: Role }) =>
    apiFetch<Operator>("/operators", { method: "POST", body }),
  );
}

export function useUpdateOperator() {
  return useListMutation(qk.operators, ({ id, ...body }: { id: string; role?: Role; disabled?: boolean; password?: string }) =>
    apiFetch<Operator>(`/operators/${encodeURIComponent(id)}`, { method: "PATCH", body }),
  );
}

// ---- API tokens ----
export function useApiTokens(enabled = true) {
  return useList<ApiToken>(qk.apiTokens, "/api-tokens", enabled);
}

export function useCreateApiToken() {
  return useListMutation(qk.apiTokens, (body: { name: string; role: Role; expiresInDays?: number }) =>
    apiFetch<ApiTokenCreated>("/api-tokens", { method: "POST", body }),
  );
}

export function useRevokeApiToken() {
  return useListMutation(qk.apiTokens, (id: string) => apiFetch<unknown>(`/api-tokens/${encodeURIComponent(id)}`, { method: "DELETE" }));
}

// ---- settings ----
export function useSettings() {
  return useQuery({
    queryKey: qk.settings,
    queryFn: ({ signal }) => apiFetch<Settings>("/settings", { signal }),
    staleTime: 60_000,
  });
}

export function useUpdateSettings() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Partial<Settings>) => apiFetch<Settings>("/settings", { method: "PATCH", body }),
    onSuccess: (data) => {
      if (data) qc.setQueryData(qk.settings, data);
      void qc.invalidateQueries({ queryKey: qk.settings });
      void qc.invalidateQueries({ queryKey: qk.fleetSummary });
    },
  });
}
