"use client";
import * as React from "react";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import type { HostSort, HostsFilter } from "../hooks/use-hosts";

const SORTS: HostSort[] = ["hostname", "kernelRelease", "distro", "lastSeenAt", "online", "enrolledAt"];
export const PAGE_SIZES = [25, 50, 100, 200];

/** Hosts page filters live in the URL: shareable, bookmarkable, back-button friendly. */
export function useHostsUrlState() {
  const sp = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();

  const filter: HostsFilter & { page: number } = React.useMemo(() => {
    const sort = sp.get("sort") as HostSort | null;
    const limitRaw = Number(sp.get("limit"));
    const limit = PAGE_SIZES.includes(limitRaw) ? limitRaw : 50;
    const page = Math.max(1, Math.floor(Number(sp.get("page")) || 1));
    const online = sp.get("online");
    const status = sp.get("status");
    return {
      q: sp.get("q") || undefined,
      kernel: sp.get("kernel") || undefined,
      distro: sp.get("distro") || undefined,
      online: online === "true" || online === "false" ? online : undefined,
      status: status === "active" || status === "revoked" || status === "decommissioned" ? status : undefined,
      label: sp.getAll("label").filter(Boolean),
      group: sp.get("group") || undefined,
      missing: sp.get("missing") || undefined,
      drifting: sp.get("drifting") === "true" ? "true" : undefined,
      sort: sort && SORTS.includes(sort) ? sort : "hostname",
      order: sp.get("order") === "desc" ? "desc" : "asc",
      limit,
      offset: (page - 1) * limit,
      page,
    };
  }, [sp]);

  /** Set/clear keys. Any change other than paging returns to page 1. */
  const update = React.useCallback(
    (patch: Record<string, string | string[] | undefined | null>) => {
      const next = new URLSearchParams(sp.toString());
      for (const [k, v] of Object.entries(patch)) {
        next.delete(k);
        if (Array.isArray(v)) v.forEach((x) => next.append(k, x));
        else if (v !== undefined && v !== null && v !== "") next.set(k, v);
      }
      if (!("page" in patch)) next.delete("page");
      const qs = next.toString();
      router.replace(qs ? `${pathname}?${qs}` : pathname, { scroll: false });
    },
    [sp, router, pathname],
  );

  const activeFilterCount =
    (filter.q ? 1 : 0) + (filter.kernel ? 1 : 0) + (filter.distro ? 1 : 0) + (filter.online ? 1 : 0) + (filter.status ? 1 : 0) + (filter.label?.length ?? 0) +
    (filter.group ? 1 : 0) + (filter.missing ? 1 : 0) + (filter.drifting ? 1 : 0);

  return { filter, update, activeFilterCount };
}
