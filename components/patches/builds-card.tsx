"use client";
import * as React from "react";
import Link from "next/link";
import { Hammer, Layers, RotateCcw, ScrollText, Wrench } from "lucide-react";
import { BUILD_STATUS, type Build, type BuildOutcome, type PatchDetail } from "@/lib/api/schemas";
import { ApiRequestError } from "../api";
import { Card, CardHeader } from "../ui/card";
import { EmptyState } from "../ui/empty-state";
import { CopyButton } from "../ui/copy-button";
import { StatusBadge, type Tone } from "../ui/badge";
import { Button, Spinner } from "../ui/button";
import { FollowingLog, LogDialog } from "../ui/log-view";
import { RelativeTime } from "../ui/relative-time";
import { cn } from "../ui/cn";
import { formatBytes, formatDuration, formatExact, numberFmt } from "../ui/time";
import { useOperator } from "../hooks/operator-context";
import { useBuildLog, useBuildWorkers, useEnsureBuilds, useRebuild } from "../hooks/use-patches";

const buildTone: Record<Build["status"], Tone> = { queued: "warn", building: "warn", succeeded: "ok", failed: "bad" };

/** How each finished outcome reads; "nothing to do" outcomes are not failures. */
const outcomeView: Record<BuildOutcome, { label: string; tone: Tone; benign?: true }> = {
  built: { label: "built", tone: "ok" },
  refused: { label: "refused", tone: "bad" },
  not_built: { label: "not built in this release", tone: "neutral", benign: true },
  does_not_compile: { label: "does not compile alone", tone: "bad" },
  already_fixed: { label: "already fixed", tone: "ok", benign: true },
  no_change: { label: "no change", tone: "ok", benign: true },
  failed: { label: "failed", tone: "bad" }, // text, not a state
  timeout: { label: "timed out", tone: "bad" },
  bad_output: { label: "bad output", tone: "bad" },
};

function errorText(e: unknown): string {
  if (e instanceof ApiRequestError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

export function BuildStatusBadge({ status, outcome }: { status: Build["status"]; outcome?: BuildOutcome | null }) {
  const finished = outcome && (status === BUILD_STATUS.succeeded || status === BUILD_STATUS.failed) ? outcomeView[outcome] : null;
  return (
    <span className="inline-flex items-center gap-1.5" data-testid="build-status" data-outcome={finished ? outcome : undefined}>
      <StatusBadge tone={finished?.tone ?? buildTone[status]}>{finished?.label ?? status}</StatusBadge>
      {status === BUILD_STATUS.building ? <Spinner className="size-3.5 text-warn" /> : null}
    </span>
  );
}

function duration(b: Build): string | null {
  if (!b.startedAt) return null;
  const end = b.finishedAt ? new Date(b.finishedAt).getTime() : Date.now();
  return formatDuration((end - new Date(b.startedAt).getTime()) / 1000);
}

function BuildLogDialog({ build, onClose }: { build: Build | null; onClose: () => void }) {
  const q = useBuildLog(build?.id ?? null);
  const status = q.data?.status ?? build?.status;
  const log = q.data?.log;
  return (
    <LogDialog
      item={build}
      onClose={onClose}
      title={(b) => (
        <>
          Build log <span className="font-mono text-xs font-normal text-muted-foreground">{b.kernelRelease}</span>
        </>
      )}
      description={(b) => `${b.builder} builder · attempt ${b.attempts}${b.worker ? ` · build worker ${b.worker}` : ""}`}
    >
      {(b) => (
        <>
          <div className="mb-2 flex flex-wrap items-center gap-3 text-xs text-muted-foreground" data-testid="build-log-status" data-status={status}>
            {status ? <BuildStatusBadge status={status} outcome={status === b.status ? b.outcome : null} /> : null}
            {b.error && status === BUILD_STATUS.failed ? (
              <span className={cn("min-w-0 break-words", b.outcome && outcomeView[b.outcome].benign ? "text-muted-foreground" : "text-bad")}>{b.error}</span>
            ) : null}
            {q.isFetching ? <Spinner className="size-3" /> : null}
          </div>
          <FollowingLog
            testId="build-log"
            followKey={b.id}
            className="h-[50vh]"
            loadError={q.isError ? errorText(q.error) : undefined}
            text={log === undefined ? "Loading…" : log || (status === "queued" ? "Waiting for a builder…" : "(empty)")}
          />
        </>
      )}
    </LogDialog>
  );
}

/** What the module replaces (with the kallsyms position when a name is not unique) and adds, and the earlier patches it was built on. */
function BuildReportList({ report }: { report: NonNullable<Build["report"]> }) {
  return (
    <div className="mt-1.5 max-w-md space-y-0.5 text-xs text-muted-foreground" data-testid="build-report">
      {report.replaced.map((f) => (
        <p key={`${f.object}:${f.function}:${f.sympos}`} className="break-words" data-testid="build-replaced">
          replaces <span className="font-mono text-foreground">{f.function}</span>
          {f.sympos ? <span className="font-mono"> #{f.sympos}</span> : null} in <span className="font-mono">{f.object}</span>
          <span className="text-subtle-foreground"> · {f.file}</span>
        </p>
      ))}
      {report.added.map((f) => (
        <p key={`${f.object}:${f.function}`} className="break-words" data-testid="build-added">
          adds <span className="font-mono text-foreground">{f.function}</span> in <span className="font-mono">{f.object}</span>
        </p>
      ))}
      {report.includes.map((i) => (
        <p key={i.patchId} className="break-words" data-testid="build-includes">
          {i.functions.length > 0 ? (
            <>
              <Layers className="mr-1 inline size-3 align-[-2px]" aria-hidden />
              built on{" "}
              <Link href={`/patches/${i.patchId}`} className="text-foreground hover:underline">
                {i.title}
              </Link>{" "}
              (both change <span className="font-mono">{i.functions.join(", ")}</span>): carries its fix, loads only where it is live
            </>
          ) : (
            <>
              with{" "}
              <Link href={`/patches/${i.patchId}`} className="hover:underline">
                {i.title}
              </Link>{" "}
              applied first (no function in common)
            </>
          )}
        </p>
      ))}
      {report.source ? <p className="text-subtle-foreground">from {report.source}</p> : null}
    </div>
  );
}

export function BuildsCard({ p }: { p: PatchDetail }) {
  const op = useOperator();
  // A withdrawn patch is not built any more (lib/patches/withdraw.ts).
  const canBuild = op.can("operator") && !p.withdrawn;
  const rebuild = useRebuild(p.id);
  const ensure = useEnsureBuilds(p.id);
  const [openId, setOpenId] = React.useState<string | null>(null);
  const open = p.builds.find((b) => b.id === openId) ?? null;
  const builds = React.useMemo(() => [...p.builds].sort((a, b) => a.kernelRelease.localeCompare(b.kernelRelease, undefined, { numeric: true })), [p.builds]);
  // Finished builds count by outcome: an already-fixed release is not a failure.
  const stateOf = (b: Build) => (b.outcome && (b.status === BUILD_STATUS.succeeded || b.status === BUILD_STATUS.failed) ? outcomeView[b.outcome].label : b.status);
  const counts = builds.reduce<Record<string, number>>((acc, b) => ((acc[stateOf(b)] = (acc[stateOf(b)] ?? 0) + 1), acc), {});
  const waiting = builds.some((b) => b.status === "queued" || b.status === BUILD_STATUS.building);
  const workers = useBuildWorkers(waiting);
  const online = workers.data?.items.filter((w) => w.online) ?? [];
  const summary = Object.entries(counts)
    .map(([state, n]) => `${n} ${state}`)
    .join(", ");

  return (
    <Card className="overflow-hidden" data-testid="patch-builds">
      <CardHeader
        title="Builds"
        icon={<Hammer />}
        description={
          builds.length > 0
            ? `One artifact per kernel release, built once: ${builds.length} ${builds.length === 1 ? "release" : "releases"}, ${summary}.`
            : "One loadable artifact per kernel release the patch targets, built once."
        }
        actions={
          canBuild ? (
            <Button
              size="sm"
              data-testid="ensure-builds"
              loading={ensure.isPending}
              onClick={() => ensure.mutate()}
              title="Create builds for target releases of the fleet that have none yet"
            >
              <Wrench className="size-3.5" /> Ensure builds
            </Button>
          ) : null
        }
      />
      {ensure.isSuccess || ensure.isError ? (
        <div
          data-testid="ensure-result"
          className={cn("border-b border-border px-4 py-2 text-[13px]", ensure.isError ? "bg-bad-soft text-bad" : "bg-muted/50 text-muted-foreground")}
        >
          {ensure.isError
            ? `Could not ensure builds: ${errorText(ensure.error)}`
            : ensure.data.created.length === 0
              ? "Every target release already has a build; nothing created."
              : `Created ${ensure.data.created.length} ${ensure.data.created.length === 1 ? "build" : "builds"}: ${ensure.data.created.join(", ")}`}
        </div>
      ) : null}
      {waiting && workers.data ? (
        <div
          data-testid="build-workers"
          className={cn("border-b border-border px-4 py-2 text-[13px]", online.length === 0 ? "bg-warn-soft text-warn" : "bg-muted/50 text-muted-foreground")}
        >
          {online.length === 0
            ? "No build worker is running: queued builds wait until one starts (npm run build-worker, or a console with SPLICER_BUILD_WORKERS above 0)."
            : `${online.length} build ${online.length === 1 ? "worker" : "workers"} online: ${online.map((w) => `${w.name} (${w.running}/${w.concurrency} busy)`).join(", ")}.`}
        </div>
      ) : null}
      {rebuild.isError ? (
        <div data-testid="rebuild-error" className="border-b border-border bg-bad-soft px-4 py-2 text-[13px] text-bad">
          Could not rebuild: {errorText(rebuild.error)}
        </div>
      ) : null}
      {builds.length === 0 ? (
        <EmptyState compact icon={<Hammer />} title="No builds yet">
          {p.verdict === "requires-reboot"
            ? "This patch changes data a running kernel holds, so it cannot be built as a live patch: apply it with a kernel update and a reboot."
            : "A build is made once for each kernel release this patch targets, as soon as a host in the fleet runs that release."}
        </EmptyState>
      ) : (
        <div className="scrollbar-thin overflow-x-auto">
          <table className="w-full border-separate border-spacing-0 text-[13px]" data-testid="build-matrix">
            <caption className="sr-only">Builds per kernel release; select a row to open its log</caption>
            <thead>
              <tr className="text-left text-[11px] font-medium uppercase tracking-wide text-muted-foreground">
                {["Kernel release", "Status", "Hosts", "Builder", "Attempts", "Time", "Artifact", ""].map((h, i) => (
                  <th key={h || "actions"} scope="col" className={cn("h-8 whitespace-nowrap border-b border-border bg-muted/75 px-3 font-medium", (i === 2 || i === 4) && "text-right")}>
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {builds.map((b) => {
                const d = duration(b);
                return (
                  <tr
                    key={b.id}
                    data-testid="build-row"
                    data-status={b.status}
                    data-release={b.kernelRelease}
                    data-queued-at={b.queuedAt}
                    className="cursor-pointer align-top hover:bg-muted/40"
                    onClick={() => setOpenId(b.id)}
                  >
                    <td className="whitespace-nowrap border-b border-border px-3 py-2 font-mono text-xs">
                      <button
                        type="button"
                        data-testid="build-open-log"
                        className="inline-flex items-center gap-1.5 rounded hover:underline focus-visible:outline-2"
                        title="Open the build log"
                        onClick={(e) => {
                          e.stopPropagation();
                          setOpenId(b.id);
                        }}
                      >
                        <ScrollText className="size-3.5 text-subtle-foreground" />
                        {b.kernelRelease}
                      </button>
                    </td>
                    <td className="border-b border-border px-3 py-2">
                      <BuildStatusBadge status={b.status} outcome={b.outcome} />
                      {b.error ? (
                        <p
                          className={cn("mt-1 max-w-md text-xs break-words", b.outcome && outcomeView[b.outcome].benign ? "text-muted-foreground" : "text-bad")}
                          data-testid="build-error"
                        >
                          {b.outcome === "already_fixed" || b.outcome === "no_change" ? "Nothing to do: " : null}
                          {b.error}
                        </p>
                      ) : null}
                      {b.report ? <BuildReportList report={b.report} /> : null}
                    </td>
                    <td className="border-b border-border px-3 py-2 text-right tabular text-muted-foreground">{numberFmt.format(b.hostCount)}</td>
                    <td className="border-b border-border px-3 py-2 font-mono text-xs text-muted-foreground">
                      {b.builder}
                      {b.worker ? (
                        <span className="block text-[11px] text-subtle-foreground" title="The build worker that ran it" data-testid="build-worker">
                          {b.worker}
                        </span>
                      ) : null}
                    </td>
                    <td className="border-b border-border px-3 py-2 text-right tabular text-muted-foreground">{b.attempts}</td>
                    <td className="whitespace-nowrap border-b border-border px-3 py-2 text-xs text-muted-foreground">
                      {b.finishedAt ? (
                        <span className="flex flex-col" title={formatExact(new Date(b.finishedAt))}>
                          <RelativeTime date={b.finishedAt} />
                          {d ? <span className="text-subtle-foreground">took {d}</span> : null}
                        </span>
                      ) : b.startedAt ? (
                        <span>started <RelativeTime date={b.startedAt} /></span>
                      ) : (
                        <span>queued <RelativeTime date={b.queuedAt} /></span>
                      )}
                    </td>
                    <td className="border-b border-border px-3 py-2 text-xs" onClick={(e) => e.stopPropagation()}>
                      {b.artifactSha256 ? (
                        <span className="flex flex-col gap-0.5">
                          <span className="flex items-center gap-1.5">
                            <span className="font-mono" title={b.artifactSha256} data-testid="artifact-sha">
                              {b.artifactSha256.slice(0, 12)}
                            </span>
                            <CopyButton text={b.artifactSha256} label="Copy artifact sha256" className="h-5 w-5" />
                          </span>
                          <span className="font-mono text-[11px] text-subtle-foreground">
                            {b.moduleName ?? "—"}
                            {b.artifactSize != null ? ` · ${formatBytes(b.artifactSize)}` : ""}
                          </span>
                        </span>
                      ) : (
                        <span className="text-subtle-foreground">—</span>
                      )}
                    </td>
                    <td className="whitespace-nowrap border-b border-border px-3 py-2 text-right" onClick={(e) => e.stopPropagation()}>
                      {canBuild && b.status === BUILD_STATUS.failed ? (
                        <Button
                          size="sm"
                          variant="outline"
                          data-testid="rebuild"
                          loading={rebuild.isPending && rebuild.variables === b.id}
                          onClick={() => rebuild.mutate(b.id)}
                        >
                          <RotateCcw className="size-3.5" /> Rebuild
                        </Button>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <BuildLogDialog build={open} onClose={() => setOpenId(null)} />
    </Card>
  );
}
