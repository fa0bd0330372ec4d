"use client";
import * as React from "react";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Group, GroupCreate, GroupPreview, GroupSelector } from "@/lib/api/schemas";
import { ApiRequestError, apiFetch } from "../api";
import { qk } from "./keys";
import { useCreateItem } from "./use-create";

const notFound = (e: unknown) => e instanceof ApiRequestError && (e.status === 404 || e.status === 400);

export function useGroups() {
  return useQuery({
    queryKey: qk.groupList,
    queryFn: ({ signal }) => apiFetch<{ items: Group[] }>("/groups", { signal }),
  });
}

export function useGroup(id: string | undefined) {
  return useQuery({
    queryKey: qk.group(id ?? ""),
    enabled: !!id,
    queryFn: ({ signal }) => apiFetch<Group>(`/groups/${encodeURIComponent(id!)}`, { signal }),
    retry: (n, e) => !notFound(e) && n < 2,
  });
}

/**
 * Live member count for a selector being edited: asks the server (which evaluates selectors the
 * same way it does for groups) once typing pauses. `null` selector: nothing to ask yet.
 */
export function useGroupPreview(selector: GroupSelector | null, delayMs = 250) {
  const [debounced, setDebounced] = React.useState(selector);
  const json = JSON.stringify(selector);
  React.useEffect(() => {
    const t = setTimeout(() => setDebounced(JSON.parse(json) as GroupSelector | null), delayMs);
    return () => clearTimeout(t);
  }, [json, delayMs]);
  return useQuery({
    queryKey: qk.groupPreview(debounced),
    enabled: debounced !== null,
    queryFn: ({ signal }) => apiFetch<GroupPreview>("/groups/preview", { method: "POST", body: { selector: debounced }, signal }),
    placeholderData: keepPreviousData,
    retry: false,
    staleTime: 5_000,
  });
}

export function useCreateGroup() {
  return useCreateItem<GroupCreate, Group>("/groups", qk.group, qk.groups);
}

export function useUpdateGroup(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Partial<GroupCreate>) => apiFetch<Group>(`/groups/${encodeURIComponent(id)}`, { method: "PATCH", body }),
    onSuccess: (g) => {
      qc.setQueryData(qk.group(id), g);
      void qc.invalidateQueries({ queryKey: qk.groups });
      void qc.invalidateQueries({ queryKey: qk.hosts() });
    },
  });
}

export function useDeleteGroup(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => apiFetch<unknown>(`/groups/${encodeURIComponent(id)}`, { method: "DELETE" }),
    onSuccess: () => {
      qc.removeQueries({ queryKey: qk.group(id) });
      void qc.invalidateQueries({ queryKey: qk.groupList });
    },
  });
}
