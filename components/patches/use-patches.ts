"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { PatchCreate, PatchDetail, PatchSummary } from "@/lib/api/schemas";
import { apiFetch } from "../api";

/** Query keys of the Patches section; the realtime provider invalidates ["patches"] on every audit event. */
export const patchKeys = {
  all: ["patches"] as const,
  list: ["patches", "list"] as const,
  detail: (id: string) => ["patches", "detail", id] as const,
};

export function usePatches() {
  return useQuery({
    queryKey: patchKeys.list,
    queryFn: ({ signal }) => apiFetch<{ items: PatchSummary[] }>("/patches", { signal }),
  });
}

export function usePatch(id: string) {
  return useQuery({
    queryKey: patchKeys.detail(id),
    queryFn: ({ signal }) => apiFetch<PatchDetail>(`/patches/${encodeURIComponent(id)}`, { signal }),
    // Builds move on by themselves: look again while any is still queued or building.
    refetchInterval: (q) => (q.state.data?.builds.some((b) => b.status === "queued" || b.status === "building") ? 2_000 : false),
    retry: (n, e) => !(e instanceof Error && "status" in e && (e as { status: number }).status === 404) && n < 2,
  });
}

export function useStagePatch() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: PatchCreate) => apiFetch<PatchDetail>("/patches", { method: "POST", body }),
    onSuccess: (p) => {
      qc.setQueryData(patchKeys.detail(p.id), p);
      void qc.invalidateQueries({ queryKey: patchKeys.list });
    },
  });
}
