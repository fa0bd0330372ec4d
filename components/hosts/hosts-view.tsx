"use client";
import * as React from "react";
import { useRouter } from "next/navigation";
import type { SortingState } from "@tanstack/react-table";
import { SearchX, Server } from "lucide-react";
import { useFleetSummary, useHosts } from "../hooks/use-hosts";
import { useRealtime } from "../hooks/realtime-provider";
import { PageHeader } from "../ui/page-header";
import { Card } from "../ui/card";
import { QueryTable } from "../ui/data-table";
import { EmptyState } from "../ui/empty-state";
import { Button } from "../ui/button";
import { numberFmt } from "../ui/time";
import { hostColumns } from "./hosts-columns";
import { useAddHostsLink } from "./add-hosts-link";
import { CLEAR_FILTERS, HostsFilters } from "./hosts-filters";
import { Pagination } from "../ui/pagination";
import { PAGE_SIZES, useHostsUrlState } from "./use-hosts-url-state";

export function HostsView() {
  const router = useRouter();
  const addHosts = useAddHostsLink();
  const { recentlyChanged } = useRealtime();
  const { filter, update, activeFilterCount } = useHostsUrlState();
  const { page, ...query } = filter;
  const hosts = useHosts(query);
  const { data: summary } = useFleetSummary();

  const sorting: SortingState = [{ id: filter.sort, desc: filter.order === "desc" }];
  const onSortingChange = (updater: SortingState | ((old: SortingState) => SortingState)) => {
    const next = typeof updater === "function" ? updater(sorting) : updater;
    const s = next[0];
    if (!s) return;
    update({ sort: s.id === "hostname" && !s.desc ? undefined : s.id, order: s.desc ? "desc" : undefined });
  };

  const total = hosts.data?.total;
  // Past the end after a filter change shrank the result: jump back to the last page.
  React.useEffect(() => {
    if (total !== undefined && total > 0 && filter.offset >= total) {
      update({ page: String(Math.max(1, Math.ceil(total / filter.limit))) });
    }
  }, [total, filter.offset, filter.limit, update]);

  const fleetEmpty = summary && summary.total === 0 && summary.revoked === 0 && activeFilterCount === 0;

  const empty = fleetEmpty ? (
    <EmptyState
      icon={<Server />}
      title="No hosts yet"
      action={addHosts}
    >
      Install the Splicer agent on your servers with an enrollment token; they show up here as they connect.
    </EmptyState>
  ) : (
    <EmptyState
      icon={<SearchX />}
      title="No hosts match these filters"
      action={
        <Button onClick={() => update(CLEAR_FILTERS)}>
          Clear filters
        </Button>
      }
    >
      {filter.missing && activeFilterCount === 1
        ? "Every host this patch targets has it live: nothing is exposed."
        : filter.drifting && activeFilterCount === 1
          ? "Every host has exactly the patches its rollouts applied for the kernel it runs."
        : "Try a shorter search, or remove a kernel, distribution, state, label, group or patch filter."}
    </EmptyState>
  );

  return (
    <>
      <PageHeader
        title="Hosts"
        description={
          summary ? (
            <>
              {numberFmt.format(summary.total)} hosts · <span className="text-ok">{numberFmt.format(summary.online)} online</span> ·{" "}
              {numberFmt.format(summary.offline)} offline
              {summary.stale > 0 ? (
                <>
                  {" "}
                  · <span className="text-warn">{numberFmt.format(summary.stale)} stale</span>
                </>
              ) : null}
            </>
          ) : (
            "Every server running the Splicer agent."
          )
        }
        actions={addHosts}
      />
      {/* Fills the window: the header row sticks, the rows scroll, pagination stays in view. */}
      <Card className="flex h-[calc(100vh-10.5rem)] min-h-[26rem] flex-col overflow-hidden">
        <div className="border-b border-border p-3">
          <HostsFilters filter={filter} update={update} summary={summary} activeFilterCount={activeFilterCount} />
        </div>
        <QueryTable
          query={hosts}
          errorTitle="Could not load hosts"
          errorClassName="flex-1"
          caption="Hosts"
          columns={hostColumns}
          fetching={hosts.isPlaceholderData}
          sorting={sorting}
          onSortingChange={onSortingChange}
          onRowClick={(row, e) => {
            const href = `/hosts/${row.original.id}`;
            if (e.metaKey || e.ctrlKey) window.open(href, "_blank");
            else router.push(href);
          }}
          rowClassName={(row) => (recentlyChanged.has(row.original.id) ? "animate-row-flash" : undefined)}
          empty={empty}
          skeletonRows={12}
          className="min-h-0 flex-1"
        />
        <Pagination
          page={page}
          pageSize={filter.limit}
          total={total}
          pageSizes={PAGE_SIZES}
          onPage={(p) => update({ page: p <= 1 ? undefined : String(p) })}
          onPageSize={(n) => update({ limit: n === 50 ? undefined : String(n) })}
        />
      </Card>
    </>
  );
}
