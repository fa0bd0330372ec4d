"use client";
import * as React from "react";
import Link from "next/link";
import { ArrowRight, Rocket } from "lucide-react";
import type { RolloutSummary } from "@/lib/api/schemas";
import { Card, CardHeader } from "../ui/card";
import { Skeleton } from "../ui/skeleton";
import { RelativeTime } from "../ui/relative-time";
import { buttonClass } from "../ui/button";
import { ErrorState } from "../ui/error-state";
import { RollbackBadge, RolloutHostStateBadge, RolloutProgress, RolloutStatusBadge } from "./rollout-state";
import { useRollouts, type RolloutsFilter } from "../hooks/use-rollouts";

function Row({ r, hostState }: { r: RolloutSummary; hostState?: React.ReactNode }) {
  return (
    <li data-testid="recent-rollout" data-rollout={r.id}>
      <Link href={`/rollouts/${r.id}`} className="flex flex-col gap-1.5 px-4 py-2.5 hover:bg-muted/60">
        <span className="flex min-w-0 items-center gap-2 text-[13px]">
          <span className="shrink-0 font-mono text-xs text-muted-foreground">#{r.number}</span>
          {r.kind === "rollback" ? <RollbackBadge /> : null}
          <span className="min-w-0 flex-1 truncate font-medium">{r.patch.title}</span>
          <RelativeTime date={r.createdAt} className="shrink-0 text-xs text-subtle-foreground" />
        </span>
        <span className="flex min-w-0 items-center gap-2">
          <span className="truncate text-xs text-muted-foreground">→ {r.group.name}</span>
          <span className="ml-auto flex shrink-0 items-center gap-2">
            {hostState ?? (
              <>
                <RolloutProgress r={r} className="[&_[role=img]]:w-16" />
                <RolloutStatusBadge rollout={r} />
              </>
            )}
          </span>
        </span>
      </Link>
    </li>
  );
}

/**
 * A few rollouts (for a group, a host, or those still running) as a compact card. With `hostId`,
 * each row shows that host's own state in the rollout instead of the rollout's progress.
 */
export function RecentRollouts({
  filter,
  title,
  description,
  empty,
  hostId,
  limit = 6,
  testId,
  moreHref,
}: {
  filter: RolloutsFilter;
  title: string;
  description?: string;
  empty: React.ReactNode;
  hostId?: string;
  limit?: number;
  testId?: string;
  /** Where "All N" goes; default: the rollouts list with this filter. */
  moreHref?: string;
}) {
  const q = useRollouts({ ...filter, limit });
  const items = q.data?.items ?? [];
  const total = q.data?.total ?? 0;
  const more = new URLSearchParams(Object.entries(filter).filter(([, v]) => typeof v === "string") as [string, string][]).toString();
  return (
    <Card className="overflow-hidden" data-testid={testId}>
      <CardHeader
        icon={<Rocket />}
        title={title}
        description={description}
        actions={
          total > items.length && !hostId ? (
            <Link href={moreHref ?? `/rollouts${more ? `?${more}` : ""}`} className={buttonClass("ghost", "sm")}>
              All {total} <ArrowRight />
            </Link>
          ) : null
        }
      />
      {q.isError && !q.data ? (
        <ErrorState compact error={q.error} title="Could not load rollouts" onRetry={() => void q.refetch()} />
      ) : q.isLoading ? (
        <div className="space-y-3 p-4">
          <Skeleton className="h-3 w-3/4" />
          <Skeleton className="h-3 w-2/3" />
        </div>
      ) : items.length === 0 ? (
        <p className="px-4 py-5 text-center text-xs text-muted-foreground">{empty}</p>
      ) : (
        <ul className="divide-y divide-border">
          {items.map((r, i) => {
            // Listed by host, each rollout carries that host's own result.
            const s = hostId ? r.hostResult : undefined;
            return (
              <Row
                key={r.id}
                r={r}
                hostState={
                  hostId ? (
                    s ? (
                      <span className="flex items-center gap-2">
                        {s.error ? (
                          <span className="max-w-[12rem] truncate text-xs text-bad" title={s.error}>
                            {s.error}
                          </span>
                        ) : null}
                        <RolloutHostStateBadge state={s.state} />
                      </span>
                    ) : (
                      <Skeleton className="h-4 w-16" />
                    )
                  ) : undefined
                }
              />
            );
          })}
        </ul>
      )}
    </Card>
  );
}
