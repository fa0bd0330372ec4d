"use client";
import { useQuery } from "@tanstack/react-query";
import type { Exposure } from "@/lib/api/schemas";
import { apiFetch } from "../api";
import { qk } from "./keys";

/** CVEs of staged patches and the hosts still exposed to them, worst first. */
export function useExposure(limit = 100) {
  return useQuery({
    queryKey: qk.exposure(limit),
    queryFn: ({ signal }) => apiFetch<Exposure>("/exposure", { query: { limit }, signal }),
  });
}
