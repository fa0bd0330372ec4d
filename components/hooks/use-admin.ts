"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ApiToken, EnrollmentToken, Operator, Role, Settings } from "@/lib/api/schemas";
import { apiFetch } from "../api";
import { qk } from "./keys";

export type EnrollmentTokenCreated = EnrollmentToken & { token: string };
export type ApiTokenCreated = ApiToken & { token: string };

// ---- enrollment tokens ----
export function useEnrollmentTokens(enabled = true) {
  return useQuery({
    queryKey: qk.enrollmentTokens,
    queryFn: ({ signal }) => apiFetch<{ items: EnrollmentToken[] }>("/enrollment-tokens", { signal }),
    enabled,
  });
}

export function useCreateEnrollmentToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { note?: string; maxUses?: number; expiresInHours?: number }) =>
      apiFetch<EnrollmentTokenCreated>("/enrollment-tokens", { method: "POST", body }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: qk.enrollmentTokens }),
  });
}

export function useRevokeEnrollmentToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => apiFetch<unknown>(`/enrollment-tokens/${encodeURIComponent(id)}`, { method: "DELETE" }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: qk.enrollmentTokens }),
  });
}

// ---- operators ----
export function useOperators(enabled = true) {
  return useQuery({
    queryKey: qk.operators,
    queryFn: ({ signal }) => apiFetch<{ items: Operator[] }>("/operators", { signal }),
    enabled,
  });
}

export function useCreateOperator() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { username: string; password: string; role: Role }) =>
      apiFetch<Operator>("/operators", { method: "POST", body }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: qk.operators }),
  });
}

export function useUpdateOperator() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...body }: { id: string; role?: Role; disabled?: boolean; password?: string }) =>
      apiFetch<Operator>(`/operators/${encodeURIComponent(id)}`, { method: "PATCH", body }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: qk.operators }),
  });
}

// ---- API tokens ----
export function useApiTokens(enabled = true) {
  return useQuery({
    queryKey: qk.apiTokens,
    queryFn: ({ signal }) => apiFetch<{ items: ApiToken[] }>("/api-tokens", { signal }),
    enabled,
  });
}

export function useCreateApiToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string; role: Role; expiresInDays?: number }) =>
      apiFetch<ApiTokenCreated>("/api-tokens", { method: "POST", body }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: qk.apiTokens }),
  });
}

export function useRevokeApiToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => apiFetch<unknown>(`/api-tokens/${encodeURIComponent(id)}`, { method: "DELETE" }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: qk.apiTokens }),
  });
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
