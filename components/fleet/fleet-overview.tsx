"use client";
import Link from "next/link";
import { ArrowRight, Clock, Cpu, Server, Tag, Layers } from "lucide-react";
import { useFleetSummary } from "../hooks/use-hosts";
import { useOperator } from "../hooks/operator-context";
import { PageHeader } from "../ui/page-header";
import { Card, CardBody, CardHeader } from "../ui/card";
import { StatCard } from "../ui/stat-card";
import { useAddHostsLink } from "../hosts/add-hosts-link";
import { TopExposuresCard } from "../exposure/top-exposures-card";
import { RecentRollouts } from "../rollouts/recent-rollouts";
import { KernelChart } from "./kernel-chart";
import { DistroChart } from "./distro-chart";
import { EmptyState } from "../ui/empty-state";
import { ErrorState } from "../ui/error-state";
import { Skeleton } from "../ui/skeleton";
import { RelativeTime } from "../ui/relative-time";
import { Badge } from "../ui/badge";
import { buttonClass } from "../ui/button";
import { formatDuration, numberFmt } from "../ui/time";
import { ACTIVE_ROLLOUT_STATUSES } from "@/lib/api/schemas";

export function FleetOverview() {
  const { data, error, refetch } = useFleetSummary();
  const op = useOperator();

  const addHosts = useAddHostsLink();
  const addFirstHosts = useAddHostsLink("Add your first hosts");

  if (error && !data) {
    return (
      <>
        <PageHeader title="Fleet overview" />
        <Card>
          <ErrorState error={error} title="Could not load the fleet summary" onRetry={() => void refetch()} />
        </Card>
      </>
    );
  }

  const total = data?.total;
  const active = data ? data.total : 0;
  const pct = (n: number | undefined) => (data && active > 0 && n !== undefined ? n / active : 0);

  if (data && data.total === 0 && data.revoked === 0) {
    return (
      <>
        <PageHeader title="Fleet overview" description="Every server running the Splicer agent, at a glance." actions={addHosts} />
        <Card>
          <EmptyState
            icon={<Server />}
            title="No hosts have enrolled yet"
            action={addFirstHosts}
          >
            Install the agent on a server with an enrollment token. It appears here within seconds, with its kernel,
            distribution and loaded livepatches.
            {!op.isAdmin ? " Ask an administrator for an enrollment token." : null}
          </EmptyState>
        </Card>
      </>
    );
  }

  return (
    <>
      <PageHeader
        title="Fleet overview"
        description={
          data ? (
            <>
              {numberFmt.format(data.total)} hosts running {numberFmt.format(data.kernels.length)} kernel releases on{" "}
              {numberFmt.format(data.distros.length)} distributions.
            </>
          ) : (
            "Every server running the Splicer agent, at a glance."
          )
        }
        actions={
          <>
            <Link href="/hosts" className={buttonClass("secondary")}>
              All hosts <ArrowRight />
            </Link>
            {addHosts}
          </>
        }
      />

      <section aria-label="Host counts" className="grid grid-cols-2 gap-3 md:grid-cols-4 xl:grid-cols-7">
        <StatCard
          label="Hosts"
          value={total}
          href="/hosts"
          testId="stat-total"
          hint="enrolled and active"
          segments={
            data
              ? [
                  { tone: "ok", value: data.online, label: "Online" },
                  { tone: "off", value: Math.max(0, data.offline - data.stale), label: "Offline" },
                  { tone: "warn", value: data.stale, label: "Stale" },
                ]
              : undefined
          }
        />
        <StatCard label="Online" value={data?.online} share={pct(data?.online)} tone="ok" href="/hosts?online=true" testId="stat-online" hint="connected now" />
        <StatCard label="Offline" value={data?.offline} share={pct(data?.offline)} tone="off" href="/hosts?online=false" testId="stat-offline" hint="not connected" />
        <StatCard
          label="Stale"
          value={data?.stale}
          share={pct(data?.stale)}
          tone="warn"
          href="#stale"
          testId="stat-stale"
          hint={data ? `silent for more than ${formatDuration(data.staleAfterSec)}` : undefined}
        />
        <StatCard
          label="Drifting"
          value={data?.drifting}
          share={pct(data?.drifting)}
          tone="warn"
          href="/hosts?drifting=true"
          testId="stat-drifting"
          hint="live patches differ from what rollouts applied"
        />
        <StatCard
          label="Reboot required"
          value={data?.rebootRequired}
          share={pct(data?.rebootRequired)}
          tone="bad"
          href="/exposure"
          testId="stat-reboot-required"
          hint="exposed to a CVE no live patch can fix on their kernel"
        />
        <StatCard label="Revoked" value={data?.revoked} tone="bad" href="/hosts?status=revoked" testId="stat-revoked" hint="credentials withdrawn" />
      </section>

      <div className="mt-4 grid grid-cols-1 gap-4 xl:grid-cols-3">
        <Card className="xl:col-span-2">
          <CardHeader
            icon={<Cpu />}
            title="Kernel releases"
            description="Hosts per running kernel. Each release needs its own build of a patch."
            actions={
              <span className="flex items-center gap-3 text-xs text-muted-foreground">
                <span className="flex items-center gap-1.5">
                  <span className="size-2 rounded-sm bg-ok" /> online
                </span>
                <span className="flex items-center gap-1.5">
                  <span className="size-2 rounded-sm bg-[var(--chart-muted)]" /> offline
                </span>
              </span>
            }
          />
          <CardBody className="pb-3">
            {!data ? (
              <div className="space-y-2.5">
                {Array.from({ length: 6 }, (_, i) => (
                  <div key={i} className="flex items-center gap-3">
                    <Skeleton className="h-3 w-36" />
                    <Skeleton className="h-4" style={{ width: `${70 - i * 10}%` }} />
                  </div>
                ))}
              </div>
            ) : data.kernels.length === 0 ? (
              <EmptyState compact title="No kernels reported yet" />
            ) : (
              <>
                <KernelChart kernels={data.kernels} />
                {data.kernels.length > 14 ? (
                  <Link href="/hosts?sort=kernelRelease" className="mt-2 inline-flex items-center gap-1 text-xs text-primary hover:underline">
                    {data.kernels.length - 14} more releases <ArrowRight className="size-3" />
                  </Link>
                ) : null}
              </>
            )}
          </CardBody>
        </Card>

        <Card>
          <CardHeader icon={<Layers />} title="Distributions" description="Share of hosts by operating system" />
          <CardBody>
            {!data ? (
              <div className="flex items-center gap-5">
                <Skeleton className="size-[148px] rounded-full" />
                <div className="flex-1 space-y-2">
                  <Skeleton className="h-3 w-full" />
                  <Skeleton className="h-3 w-4/5" />
                  <Skeleton className="h-3 w-3/5" />
                </div>
              </div>
            ) : data.distros.length === 0 ? (
              <EmptyState compact title="No distributions reported yet" />
            ) : (
              <DistroChart distros={data.distros} total={data.total} />
            )}
          </CardBody>
        </Card>
      </div>

      <div className="mt-4 grid grid-cols-1 items-start gap-4 xl:grid-cols-3">
        <TopExposuresCard className="xl:col-span-2" />
        <RecentRollouts
          filter={{ status: [...ACTIVE_ROLLOUT_STATUSES] }}
          title="Active rollouts"
          description="Running, paused or aborting now"
          empty={
            <>
              Nothing rolling out.{" "}
              <Link href="/rollouts" className="text-primary hover:underline">
                Past rollouts
              </Link>
            </>
          }
          limit={5}
          testId="active-rollouts"
          moreHref="/rollouts?status=active"
        />
      </div>

      <div className="mt-4 grid grid-cols-1 items-start gap-4 xl:grid-cols-3">
        <Card className="xl:col-span-2" id="stale">
          <CardHeader
            icon={<Clock />}
            title={
              <span className="flex items-center gap-2">
                Stale hosts
                {data && data.stale > 0 ? <Badge tone="warn">{numberFmt.format(data.stale)}</Badge> : null}
              </span>
            }
            description={
              data
                ? `Not heard from for more than ${formatDuration(data.staleAfterSec)}. Check the agent or retire the host.`
                : "Hosts that stopped reporting"
            }
            actions={
              data && data.stale > 0 ? (
                <Link href="/hosts?online=false&sort=lastSeenAt&order=asc" className={buttonClass("ghost", "sm")}>
                  View all <ArrowRight />
                </Link>
              ) : null
            }
          />
          {!data ? (
            <div className="space-y-3 p-4">
              <Skeleton className="h-3 w-3/4" />
              <Skeleton className="h-3 w-2/3" />
            </div>
          ) : data.staleHosts.length === 0 ? (
            <EmptyState compact title="No stale hosts" className="py-8">
              Every host has reported within the last {formatDuration(data.staleAfterSec)}.
            </EmptyState>
          ) : (
            <ul className="divide-y divide-border" data-testid="stale-hosts">
              {data.staleHosts.slice(0, 8).map((h) => (
                <li key={h.id}>
                  <Link href={`/hosts/${h.id}`} className="flex items-center gap-3 px-4 py-2 text-[13px] hover:bg-muted/60">
                    <span className="size-2 shrink-0 rounded-full bg-warn" aria-hidden="true" />
                    <span className="min-w-0 flex-1 truncate font-medium">{h.hostname}</span>
                    <span className="hidden truncate font-mono text-xs text-muted-foreground sm:block">{h.kernelRelease}</span>
                    <span className="w-24 text-right text-xs text-muted-foreground">
                      <RelativeTime date={h.lastSeenAt} />
                    </span>
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </Card>

        <Card>
          <CardHeader icon={<Tag />} title="Labels" description="How hosts are tagged. Click to filter." />
          <CardBody>
            {!data ? (
              <div className="flex flex-wrap gap-2">
                {Array.from({ length: 6 }, (_, i) => (
                  <Skeleton key={i} className="h-5 w-20" />
                ))}
              </div>
            ) : data.labels.length === 0 ? (
              <p className="text-[13px] text-muted-foreground">
                No labels yet. Label hosts (for example <code className="rounded bg-muted px-1 font-mono text-xs">env=prod</code>) on a
                host&apos;s page to group them for rollouts.
              </p>
            ) : (
              <ul className="flex flex-wrap gap-1.5">
                {[...data.labels]
                  .sort((a, b) => b.count - a.count)
                  .slice(0, 24)
                  .map((l) => (
                    <li key={`${l.key}=${l.value}`}>
                      <Link
                        href={`/hosts?label=${encodeURIComponent(`${l.key}=${l.value}`)}`}
                        className="inline-flex h-6 items-center rounded-md border border-border bg-muted/50 px-2 font-mono text-[11px] hover:border-border-strong hover:bg-muted"
                      >
                        <span className="text-muted-foreground">{l.key}</span>
                        <span className="px-px text-subtle-foreground">=</span>
                        <span>{l.value}</span>
                        <span className="ml-2 font-sans tabular text-subtle-foreground">{numberFmt.format(l.count)}</span>
                      </Link>
                    </li>
                  ))}
              </ul>
            )}
          </CardBody>
        </Card>
      </div>
    </>
  );
}
