"use client";
import * as React from "react";
import { Hammer, RotateCcw, ScrollText, Wrench } from "lucide-react";
import type { Build, PatchDetail } from "@/lib/api/schemas";
import { ApiRequestError } from "../api";
import { Card, CardHeader } from "../ui/card";
import { EmptyState } from "../ui/empty-state";
import { CopyButton } from "../ui/copy-button";
import { StatusBadge, type Tone } from "../ui/badge";
import { Button, Spinner } from "../ui/button";
import { Dialog, DialogContent } from "../ui/dialog";
import { RelativeTime } from "../ui/relative-time";
import { cn } from "../ui/cn";
import { formatBytes, formatDuration, formatExact, numberFmt } from "../ui/time";
import { useOperator } from "../shell/operator-context";
import { useBuildLog, useBuildWorkers, useEnsureBuilds, useRebuild } from "./use-patches";

const buildTone: Record<Build["status"], Tone> = { queued: "warn", building: "warn", succeeded: "ok", failed: "bad" };

function errorText(e: unknown): string {
  if (e instanceof ApiRequestError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

export function BuildStatusBadge({ status }: { status: Build["status"] }) {
  return (
    <span className="inline-flex items-center gap-1.5" data-testid="build-status">
      <StatusBadge tone={buildTone[status]}>{status}</StatusBadge>
      {status === "building" ? <Spinner className="size-3.5 text-warn" /> : null}
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
  const box = React.useRef<HTMLPreElement>(null);
  const follow = React.useRef(true);
  const status = q.data?.status ?? build?.status;
  const log = q.data?.log;
  // Follow the tail while the reader is at the bottom; scrolling up stops following.
  React.useLayoutEffect(() => {
    const el = box.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [log]);
  React.useEffect(() => {
    follow.current = true;
  }, [build?.id]);
  return (
    <Dialog open={!!build} onOpenChange={(o) => (o ? undefined : onClose())}>
      {build ? (
        <DialogContent
          className="max-w-3xl"
          title={
            <span className="flex items-center gap-2">
              Build log <span className="font-mono text-xs font-normal text-muted-foreground">{build.kernelRelease}</span>
            </span>
          }
          description={`${build.builder} builder · attempt ${build.attempts}${build.worker ? ` · build worker ${build.worker}` : ""}`}
        >
          <div className="mb-2 flex flex-wrap items-center gap-3 text-xs text-muted-foreground" data-testid="build-log-status" data-status={status}>
            {status ? <BuildStatusBadge status={status} /> : null}
            {build.error && status === "failed" ? <span className="min-w-0 break-words text-bad">{build.error}</span> : null}
            {q.isFetching ? <Spinner className="size-3" /> : null}
          </div>
          {q.isError ? (
            <p className="text-[13px] text-bad">Could not load the log: {errorText(q.error)}</p>
          ) : (
            <pre
              ref={box}
              data-testid="build-log"
              onScroll={(e) => {
                const el = e.currentTarget;
                follow.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
              }}
              className="scrollbar-thin h-[50vh] overflow-auto whitespace-pre-wrap break-all rounded-md border border-border bg-muted/50 p-3 font-mono text-[11.5px] leading-relaxed text-foreground"
            >
              {log === undefined ? "Loading…" : log || (status === "queued" ? "Waiting for a builder…" : "(empty)")}
            </pre>
          )}
        </DialogContent>
      ) : null}
    </Dialog>
  );
}

export function BuildsCard({ p }: { p: PatchDetail }) {
  const op = useOperator();
  const canBuild = op.can("operator");
  const rebuild = useRebuild(p.id);
  const ensure = useEnsureBuilds(p.id);
  const [openId, setOpenId] = React.useState<string | null>(null);
  const open = p.builds.find((b) => b.id === openId) ?? null;
  const builds = React.useMemo(() => [...p.builds].sort((a, b) => a.kernelRelease.localeCompare(b.kernelRelease, undefined, { numeric: true })), [p.builds]);
  const counts = builds.reduce<Record<string, number>>((acc, b) => ((acc[b.status] = (acc[b.status] ?? 0) + 1), acc), {});
  const waiting = builds.some((b) => b.status === "queued" || b.status === "building");
  const workers = useBuildWorkers(waiting);
  const online = workers.data?.items.filter((w) => w.online) ?? [];
  const summary = (["succeeded", "building", "queued", "failed"] as const)
    .filter((s) => counts[s])
    .map((s) => `${counts[s]} ${s}`)
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
                      <BuildStatusBadge status={b.status} />
                      {b.error ? (
                        <p className="mt-1 max-w-md text-xs break-words text-bad" data-testid="build-error">
                          {b.error}
                        </p>
                      ) : null}
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
                      {canBuild && b.status === "failed" ? (
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
