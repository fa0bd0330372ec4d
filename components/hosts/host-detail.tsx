"use client";
import Link from "next/link";
import { FileDiff, HardDrive, History, Power, ScrollText, ShieldAlert, ShieldCheck, Tag } from "lucide-react";
import { Tooltip } from "../ui/tooltip";
import type { HostDetail as HostDetailT, PatchSummary } from "@/lib/api/schemas";
import { useHost } from "../hooks/use-hosts";
import { useOperator } from "../hooks/operator-context";
import { PageHeader } from "../ui/page-header";
import { Card, CardHeader } from "../ui/card";
import { EmptyState } from "../ui/empty-state";
import { Skeleton } from "../ui/skeleton";
import { RelativeTime } from "../ui/relative-time";
import { CopyButton } from "../ui/copy-button";
import { Badge, StatusBadge } from "../ui/badge";
import { buttonClass } from "../ui/button";
import { formatBytes, formatDuration, formatExact } from "../ui/time";
import { HostStateBadge } from "./host-state-badge";
import { EventTimeline } from "./event-timeline";
import { LabelsEditor } from "./labels-editor";
import { RevokeHostDialog } from "./revoke-dialog";
import { DuplicateOf, RestoreHostDialog } from "./identity-actions";
import { Breadcrumb } from "../ui/breadcrumb";
import { CveChips, SeverityBadge, VerdictBadge } from "../patches/patch-badges";
import { RecentRollouts } from "../rollouts/recent-rollouts";
import { DetailLoadError } from "../detail-load-error";
import { DetailRow } from "../ui/detail-row";
import { HostDrift } from "./host-drift";

type Severity = PatchSummary["severity"];
type Verdict = PatchSummary["verdict"];

function Inventory({ h }: { h: HostDetailT }) {
  // Uptime is reported at the last inventory; extrapolate while the host is online.
  const uptime = h.online && h.lastSeenAt ? h.uptimeSec + Math.max(0, (Date.now() - new Date(h.lastSeenAt).getTime()) / 1000) : h.uptimeSec;
  return (
    <>
      {/* Short facts side by side; long identifiers get a full-width row each, never cut off. */}
      <dl className="grid lg:grid-cols-2 lg:[&>div:nth-child(odd)]:border-r">
        <DetailRow label="Kernel release" mono copy={h.kernelRelease}>
          {h.kernelRelease}
        </DetailRow>
        <DetailRow label="Distribution">
          {h.distro.name}
          {h.distro.version && !h.distro.name.includes(h.distro.version) ? ` ${h.distro.version}` : ""}
        </DetailRow>
        <DetailRow label="Architecture" mono>
          {h.arch}
        </DetailRow>
        <DetailRow label="CPUs / memory">
          {h.cpuCount} vCPU · {formatBytes(h.memoryBytes)}
        </DetailRow>
        <DetailRow label="Uptime">
          <span title={`Booted around ${formatExact(new Date(Date.now() - uptime * 1000))}`}>{formatDuration(uptime)}</span>
        </DetailRow>
        <DetailRow label="Address" mono copy={h.lastIp ?? undefined}>
          {h.lastIp ?? "—"}
        </DetailRow>
        <DetailRow label={h.online ? "Connected" : "Last seen"}>
          <RelativeTime date={h.online ? h.connectedAt : h.lastSeenAt} />
        </DetailRow>
        <DetailRow label="Enrolled">
          <RelativeTime date={h.enrolledAt} />
        </DetailRow>
        <DetailRow label="Agent version" mono>
          {h.agentVersion}
        </DetailRow>
        <DetailRow label="Status">
          <span className="capitalize">{h.status}</span>
        </DetailRow>
      </dl>
      <dl className="[&>div:last-child]:border-b-0">
        <DetailRow label="Kernel version" mono copy={h.kernelVersion}>
          {h.kernelVersion || "—"}
        </DetailRow>
        <DetailRow label="Machine id" mono copy={h.machineId}>
          {h.machineId}
        </DetailRow>
        <DetailRow label="Boot id" mono copy={h.bootId}>
          {h.bootId}
        </DetailRow>
        <DetailRow label="Host id" mono copy={h.id}>
          {h.id}
        </DetailRow>
      </dl>
    </>
  );
}

/** The kernel as it runs, like `uptrack-uname`: its release plus the live patches, each named by its patch. */
function EffectiveKernel({ h }: { h: HostDetailT }) {
  const lps = h.effective.livepatches;
  return (
    <>
      <div className="flex items-center gap-2 border-b border-border bg-muted/40 px-4 py-2.5">
        <code className="min-w-0 flex-1 truncate font-mono text-[13px] text-foreground" data-testid="effective-kernel">
          {h.effective.summary}
        </code>
        <CopyButton text={h.effective.summary} label="Copy effective kernel" className="h-6 w-6" />
      </div>
      {lps.length === 0 ? (
        <EmptyState compact title="No livepatches loaded" className="py-8">
          Nothing under <code className="font-mono text-xs">/sys/kernel/livepatch</code> on this host. Patches you roll out will be listed here.
        </EmptyState>
      ) : (
        <table className="w-full table-fixed text-[13px]" data-testid="host-livepatches">
          <thead>
            <tr className="text-left text-[11px] uppercase tracking-wide text-muted-foreground">
              <th className="w-[38%] border-b border-border px-4 py-2 font-medium">Module</th>
              <th className="border-b border-border px-4 py-2 font-medium">Patch</th>
              <th className="w-32 border-b border-border px-4 py-2 font-medium">State</th>
            </tr>
          </thead>
          <tbody>
            {lps.map((l) => (
              <tr key={l.name} className="align-top">
                <td className="truncate border-b border-border px-4 py-2 font-mono text-xs" title={l.name}>
                  {l.name}
                </td>
                <td className="border-b border-border px-4 py-2">
                  {l.patch ? (
                    <span className="flex min-w-0 flex-col gap-1">
                      <Link href={`/patches/${l.patch.id}`} className="truncate hover:underline" title={l.patch.title}>
                        {l.patch.title}
                      </Link>
                      {l.patch.cves.length > 0 ? <CveChips cves={l.patch.cves} max={3} /> : null}
                    </span>
                  ) : (
                    <span className="text-xs text-subtle-foreground">not from Splicer</span>
                  )}
                </td>
                <td className="border-b border-border px-4 py-2">
                  {l.transition ? (
                    <StatusBadge tone="warn" pulse>
                      In transition
                    </StatusBadge>
                  ) : l.enabled ? (
                    <StatusBadge tone="ok">Enabled</StatusBadge>
                  ) : (
                    <StatusBadge tone="off">Disabled</StatusBadge>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function MissingPatches({ h }: { h: HostDetailT }) {
  const missing = h.effective.missing;
  if (missing.length === 0) {
    return (
      <div className="flex items-center gap-2.5 px-4 py-4 text-[13px] text-muted-foreground" data-testid="host-missing">
        <ShieldCheck className="size-4 shrink-0 text-ok" /> Every staged patch that targets {h.kernelRelease || "this kernel"} is live here.
      </div>
    );
  }
  return (
    <ul className="divide-y divide-border" data-testid="host-missing">
      {missing.map((m) => (
        <li key={m.patchId} className="flex items-center gap-3 px-4 py-2.5" data-testid="missing-patch">
          <SeverityBadge severity={m.severity as Severity} />
          <span className="flex min-w-0 flex-1 flex-col gap-1">
            <Link href={`/patches/${m.patchId}`} className="truncate text-[13px] font-medium hover:underline">
              {m.title}
            </Link>
            {m.cves.length > 0 ? <CveChips cves={m.cves} max={3} /> : null}
          </span>
          {m.remedy === "reboot" ? (
            <Tooltip content={m.why ?? "No live patch can fix this on this kernel"}>
              <span tabIndex={0} className="inline-flex" data-testid="missing-reboot">
                <Badge tone="warn">reboot required</Badge>
              </span>
            </Tooltip>
          ) : m.verdict !== "hot-patchable" ? (
            <VerdictBadge verdict={m.verdict as Verdict} />
          ) : null}
        </li>
      ))}
    </ul>
  );
}

export function HostDetail({ id }: { id: string }) {
  const { data: h, error, refetch } = useHost(id);
  const op = useOperator();

  const breadcrumb = <Breadcrumb href="/hosts" section="Hosts" current={h?.hostname ?? "…"} />;

  if (error && !h) {
    return (
      <DetailLoadError error={error} onRetry={() => void refetch()} noun="host" section="Hosts" href="/hosts" breadcrumb={breadcrumb} notFoundTitle="Host not found" listLabel="Back to hosts">
        No host has the id <code className="font-mono text-xs">{id}</code>. It may have been removed.
      </DetailLoadError>
    );
  }

  if (!h) {
    return (
      <>
        <PageHeader title={<Skeleton className="h-6 w-56" />} breadcrumb={breadcrumb} />
        <div className="grid gap-4 xl:grid-cols-3">
          <Card className="p-4 xl:col-span-2">
            <div className="space-y-3">
              {Array.from({ length: 8 }, (_, i) => (
                <Skeleton key={i} className="h-3.5 w-full" />
              ))}
            </div>
          </Card>
          <Card className="p-4">
            <Skeleton className="h-24 w-full" />
          </Card>
        </div>
      </>
    );
  }

  const canEditLabels = op.can("operator") && h.status !== "decommissioned";

  return (
    <>
      <PageHeader
        breadcrumb={breadcrumb}
        title={<span data-testid="host-title">{h.hostname}</span>}
        meta={
          <>
            <HostStateBadge host={h} />
            <Badge mono>{h.kernelRelease}</Badge>
            {h.drifting ? (
              <a href="#drift" data-testid="host-drift-badge">
                <Badge tone="warn">drift</Badge>
              </a>
            ) : null}
          </>
        }
        description={
          <>
            {h.distro.name} · {h.arch} ·{" "}
            {h.online ? (
              <>
                connected <RelativeTime date={h.connectedAt} />
              </>
            ) : (
              <>
                last seen <RelativeTime date={h.lastSeenAt} />
              </>
            )}
          </>
        }
        actions={
          op.isAdmin && h.status === "active" && !h.duplicateOf ? (
            <RevokeHostDialog hostId={h.id} hostname={h.hostname} />
          ) : op.isAdmin && h.status === "revoked" ? (
            <RestoreHostDialog host={h} />
          ) : null
        }
      />

      {h.status === "active" && h.duplicateOf ? (
        <div role="status" className="mb-4 flex flex-col gap-2 rounded-lg border border-warn/25 bg-warn-soft px-4 py-3 text-[13px]">
          <DuplicateOf host={h} size="md" />
          <span className="text-muted-foreground">
            This host enrolled with the machine id of {h.duplicateOf.hostname} but without its credential: {h.duplicateOf.hostname} reinstalled, a clone, or someone
            posing as it. Merge it if it is {h.duplicateOf.hostname} reinstalled; revoke it otherwise.
          </span>
        </div>
      ) : null}

      {h.status === "active" && h.effective.missing.some((m) => m.remedy === "reboot") ? (
        <div role="status" className="mb-4 flex items-start gap-2 rounded-lg border border-warn/25 bg-warn-soft px-4 py-3 text-[13px]" data-testid="host-needs-reboot">
          <Power className="mt-0.5 size-4 shrink-0 text-warn" />
          <span>
            <span className="font-medium">Needs a reboot.</span> No live patch can fix{" "}
            {[...new Set(h.effective.missing.filter((m) => m.remedy === "reboot").flatMap((m) => (m.cves.length ? m.cves : [m.title])))].join(", ")} on{" "}
            <code className="font-mono text-xs">{h.kernelRelease}</code>: the host stays exposed until it boots a kernel with the fix.
          </span>
        </div>
      ) : null}

      {h.status !== "active" ? (
        <div role="status" className="mb-4 flex items-start gap-2 rounded-lg border border-bad/25 bg-bad-soft px-4 py-3 text-[13px] text-bad">
          {h.mergedInto ? (
            <span>
              This host was merged into{" "}
              <Link href={`/hosts/${h.mergedInto.id}`} className="font-medium underline">
                {h.mergedInto.hostname}
              </Link>
              ; its agent now reports as that host.
            </span>
          ) : h.status === "revoked" ? (
            <>This host was revoked. Its agent can no longer connect; an admin can restore it, and the agent then gets back in with the credential it kept.</>
          ) : (
            <>This host was {h.status}. Its agent can no longer connect; enroll it again with a new token to bring it back.</>
          )}
        </div>
      ) : null}

      <div className="grid grid-cols-1 items-start gap-4 xl:grid-cols-3">
        <div className="flex min-w-0 flex-col gap-4 xl:col-span-2">
          <Card>
            <CardHeader icon={<HardDrive />} title="Inventory" description="As last reported by the agent" />
            <Inventory h={h} />
          </Card>
          <Card>
            <CardHeader
              icon={<FileDiff />}
              title="Effective kernel"
              description="The running kernel and the livepatches live in it"
              actions={<Badge tone={h.livepatches.length ? "ok" : "neutral"}>{h.livepatches.length}</Badge>}
            />
            <EffectiveKernel h={h} />
          </Card>
          <HostDrift h={h} />
          <Card>
            <CardHeader
              icon={<ShieldAlert />}
              title="Missing patches"
              description="Staged patches that target this kernel and are not live on it"
              actions={h.effective.missing.length > 0 ? <Badge tone="bad">{h.effective.missing.length}</Badge> : <Badge tone="ok">0</Badge>}
            />
            <MissingPatches h={h} />
          </Card>
        </div>
        <div className="flex min-w-0 flex-col gap-4">
          <Card>
            <CardHeader icon={<Tag />} title="Labels" description={canEditLabels ? "Used to target groups and rollouts" : "Editable by operators"} />
            <div className="p-4">
              <LabelsEditor hostId={h.id} labels={h.labels} canEdit={canEditLabels} />
            </div>
          </Card>
          <RecentRollouts
            filter={{ hostId: h.id }}
            hostId={h.id}
            title="Rollouts"
            description="Every rollout that touched this host, and how it went here"
            empty="No rollout has included this host yet."
            limit={8}
            testId="host-rollouts"
          />
          <Card>
            <CardHeader
              icon={<History />}
              title="Timeline"
              description="Enrollment, connections, reboots, kernel and patch changes"
              actions={
                <Link href={`/audit?host=${h.id}`} className={buttonClass("ghost", "sm")} data-testid="host-audit-link">
                  <ScrollText /> Audit log
                </Link>
              }
            />
            <EventTimeline events={h.events} />
          </Card>
        </div>
      </div>
    </>
  );
}
