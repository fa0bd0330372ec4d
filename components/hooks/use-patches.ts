"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Build, BuildWorkerInfo, PatchCreate, PatchDetail, PatchSummary } from "@/lib/api/schemas";
import { apiFetch } from "../api";
import { qk } from "./keys";
import { useCreateItem } from "./use-create";
import { useRealtime } from "./realtime-provider";

type BuildStatus = Build["status"];
const active = (s: BuildStatus) => s === "queued" || s === "building";

export function usePatches() {
  return useQuery({
    queryKey: qk.patchList,
    queryFn: ({ signal }) => apiFetch<{ items: PatchSummary[] }>("/patches", { signal }),
  });
}

export function usePatch(id: string) {
  const live = useRealtime().status === "live";
  return useQuery({
    queryKey: qk.patch(id),
    queryFn: ({ signal }) => apiFetch<PatchDetail>(`/patches/${encodeURIComponent(id)}`, { signal }),
    // Builds move on by themselves: the socket's "builds:changed" refetches this. Only while the
    // socket is down, look again slowly while any build is still queued or building.
    refetchInterval: (q) => (!live && q.state.data?.builds.some((b) => active(b.status)) ? 10_000 : false),
    retry: (n, e) => !(e instanceof Error && "status" in e && (e as { status: number }).status === 404) && n < 2,
  });
}

export function useStagePatch() {
  return useCreateItem<PatchCreate, PatchDetail>("/patches", qk.patch, qk.patchList);
}

export interface BuildLog {
  id: string;
  status: BuildStatus;
  log: string;
}

/** A build's log; "builds:changed" with log:true refetches it while it grows. */
export function useBuildLog(buildId: string | null) {
  const live = useRealtime().status === "live";
  return useQuery({
    queryKey: qk.buildLog(buildId ?? ""),
    enabled: !!buildId,
    queryFn: ({ signal }) => apiFetch<BuildLog>(`/builds/${encodeURIComponent(buildId!)}/log`, { signal }),
    refetchInterval: (q) => (!live && q.state.data && active(q.state.data.status) ? 5_000 : false),
  });
}

export function useRebuild(patchId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (buildId: string) => apiFetch<{ ok: true }>(`/builds/${encodeURIComponent(buildId)}/rebuild`, { method: "POST" }),
    onSettled: (_d, _e, buildId) => {
      void qc.invalidateQueries({ queryKey: qk.patch(patchId) });
      void qc.invalidateQueries({ queryKey: qk.buildLog(buildId) });
    },
  });
}

export function useEnsureBuilds(patchId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => apiFetch<{ created: string[]; items: Build[] }>(`/patches/${encodeURIComponent(patchId)}/builds`, { method: "POST", body: {} }),
    onSettled: () => void qc.invalidateQueries({ queryKey: qk.patch(patchId) }),
  });
}

/** The processes that run builds; looked at again every few seconds while `watch` (builds wait). */
export function useBuildWorkers(watch: boolean) {
  return useQuery({
    queryKey: qk.buildWorkers,
    queryFn: ({ signal }) => apiFetch<{ items: BuildWorkerInfo[] }>("/build-workers", { signal }),
    refetchInterval: watch ? 10_000 : false,
  });
}

export function useWithdrawPatch(patchId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (reason: string) => apiFetch<PatchDetail>(`/patches/${encodeURIComponent(patchId)}/withdraw`, { method: "POST", body: { reason } }),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: qk.patch(patchId) });
      void qc.invalidateQueries({ queryKey: qk.patchList });
    },
  });
}
