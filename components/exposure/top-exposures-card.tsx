"use client";
import Link from "next/link";
import { ArrowRight, ShieldAlert, ShieldCheck } from "lucide-react";
import { Card, CardHeader } from "../ui/card";
import { Skeleton } from "../ui/skeleton";
import { buttonClass } from "../ui/button";
import { ErrorState } from "../ui/error-state";
import { Badge } from "../ui/badge";
import { numberFmt } from "../ui/time";
import { SeverityBadge } from "../patches/patch-badges";
import { ExposureBar, exposedHostsHref } from "./exposure-view";
import { useExposure } from "../hooks/use-exposure";

/** The fleet overview's five worst open CVEs, each linking to the hosts still exposed. */
export function TopExposuresCard({ className }: { className?: string }) {
  const q = useExposure(100);
  const open = (q.data?.items ?? []).filter((i) => i.exposed > 0);
  return (
    <Card className={className} data-testid="top-exposures">
      <CardHeader
        icon={<ShieldAlert />}
        title={
          <span className="flex items-center gap-2">
            Top exposures
            {q.data && q.data.exposedHosts > 0 ? <Badge tone="bad">{numberFmt.format(q.data.exposedHosts)} hosts</Badge> : null}
          </span>
        }
        description="CVEs of staged patches, worst first, by hosts still lacking the fix"
        actions={
          <Link href="/exposure" className={buttonClass("ghost", "sm")}>
            All CVEs <ArrowRight />
          </Link>
        }
      />
      {q.isError && !q.data ? (
        <ErrorState compact error={q.error} title="Could not compute exposure" onRetry={() => void q.refetch()} />
      ) : !q.data ? (
        <div className="space-y-3 p-4">
          {Array.from({ length: 4 }, (_, i) => (
            <Skeleton key={i} className="h-4 w-full" />
          ))}
        </div>
      ) : open.length === 0 ? (
        <div className="flex items-center gap-3 px-4 py-6 text-[13px] text-muted-foreground">
          <ShieldCheck className="size-5 shrink-0 text-ok" />
          {q.data.items.length === 0
            ? "No staged patch lists a CVE yet. Stage patches with their CVE ids to track exposure."
            : "Every staged fix is live on every host it targets."}
        </div>
      ) : (
        <ul className="divide-y divide-border">
          {open.slice(0, 5).map((i) => (
            <li key={i.cve}>
              <Link href={exposedHostsHref(i)} className="grid grid-cols-[4.75rem_8.5rem_minmax(0,1fr)_9rem] items-center gap-3 px-4 py-2 text-[13px] hover:bg-muted/60">
                <SeverityBadge severity={i.severity} />
                <span className="font-mono text-xs font-medium">{i.cve}</span>
                <span className="truncate text-muted-foreground" title={i.patches.map((p) => p.title).join(", ")}>
                  {i.patches[0]?.title}
                </span>
                <span className="flex items-center gap-2">
                  <ExposureBar exposed={i.exposed} targeted={i.targeted} className="w-12 shrink-0" />
                  <span className="text-xs tabular text-muted-foreground">
                    <span className="font-medium text-bad">{numberFmt.format(i.exposed)}</span>/{numberFmt.format(i.targeted)}
                  </span>
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
