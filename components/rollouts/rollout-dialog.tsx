"use client";
import * as React from "react";
import { useRouter } from "next/navigation";
import { AlertTriangle, ChevronRight, Cpu, Hammer, Info, Rocket, SkipForward, WifiOff } from "lucide-react";
import type { RolloutPreview } from "@/lib/api/schemas";
import { plainMessage } from "../api";
import { Dialog, DialogContent } from "../ui/dialog";
import { Button, Spinner } from "../ui/button";
import { InlineError } from "../ui/error-state";
import { Skeleton } from "../ui/skeleton";
import { StatusBadge, type Tone } from "../ui/badge";
import { cn } from "../ui/cn";
import { countOf, numberFmt } from "../ui/time";
import { CveChips } from "../patches/patch-badges";
import { DEFAULT_DRAFT, StrategyEditor, WaveSequence, draftToStrategy, isDefaultDraft, strategyWords, type StrategyDraft } from "./strategy";
import { useRolloutPreview, useStartRollout } from "../hooks/use-rollouts";
import { useOnOpen } from "../hooks/use-on-open";

const buildTone: Record<RolloutPreview["kernelReleases"][number]["build"], Tone> = {
  succeeded: "ok",
  queued: "warn",
  building: "warn",
  failed: "bad",
  missing: "warn",
};
const buildLabel: Record<RolloutPreview["kernelReleases"][number]["build"], string> = {
  succeeded: "built",
  queued: "queued",
  building: "building",
  failed: "build failed",
  missing: "will be built",
};

function Stat({ label, value, tone, testId }: { label: string; value: number; tone?: "bad" | "warn" | "off"; testId?: string }) {
  return (
    <div className="rounded-md border border-border bg-card px-3 py-2">
      <div className="text-[11px] font-medium uppercase tracking-wide text-subtle-foreground">{label}</div>
      <div
        className={cn("mt-0.5 text-lg font-semibold tabular", tone === "bad" && value > 0 && "text-bad", tone === "warn" && value > 0 && "text-warn", tone === "off" && "text-muted-foreground")}
        data-testid={testId}
      >
        {numberFmt.format(value)}
      </div>
    </div>
  );
}

/** A line the operator should know before starting: what will wait, what may fail. `className` gives its tone. */
function PreviewNote({ icon: Icon, className, children }: { icon: React.ComponentType<{ className?: string }>; className: string; children: React.ReactNode }) {
  return (
    <p className={cn("flex items-start gap-2 rounded-md border px-3 py-2 text-xs", className)}>
      <Icon className="mt-px size-3.5 shrink-0" />
      <span>{children}</span>
    </p>
  );
}

function PreviewBody({ p }: { p: RolloutPreview }) {
  const skippedTotal = p.skipped.reduce((n, s) => n + s.hosts, 0);
  return (
    <div className="flex flex-col gap-4">
      <div className="grid grid-cols-4 gap-2">
        <Stat label="To patch" value={p.toPatch} testId="preview-to-patch" />
        <Stat label="Skipped" value={skippedTotal} tone="off" testId="preview-skipped" />
        <Stat label="Releases" value={p.kernelReleases.length} />
        <Stat label="Offline" value={p.offline} tone="warn" />
      </div>

      {p.toPatch > 0 ? (
        <section>
          <h3 className="mb-2 text-xs font-medium text-muted-foreground">Waves</h3>
          <WaveSequence waves={p.waves} />
          <p className="mt-2 text-xs text-muted-foreground">{strategyWords(p.strategy).join(" · ")}</p>
        </section>
      ) : null}

      {p.offline > 0 ? (
        <PreviewNote icon={WifiOff} className="border-warn/25 bg-warn-soft text-warn">
          {countOf(p.offline, "host is", "hosts are")} offline. They get the patch if they reconnect in time; otherwise they end as{" "}
          <b>unreachable</b> and count against the failure budget.
        </PreviewNote>
      ) : null}
      {p.buildsMissing > 0 ? (
        <PreviewNote icon={Hammer} className="border-border bg-muted/50 text-muted-foreground">
          {countOf(p.buildsMissing, "build")} will be queued (one per kernel release without one). Their hosts wait for
          them, then go on.
        </PreviewNote>
      ) : null}

      <section>
        <h3 className="mb-1.5 flex items-center gap-1.5 text-xs font-medium text-muted-foreground">
          <Cpu className="size-3.5" /> Kernel releases
        </h3>
        <div className="scrollbar-thin max-h-40 overflow-y-auto rounded-md border border-border">
          <table className="w-full text-[13px]" data-testid="preview-releases">
            <tbody>
              {p.kernelReleases.map((k) => (
                <tr key={k.kernelRelease} className="border-b border-border last:border-b-0">
                  <td className="px-3 py-1.5 font-mono text-xs">{k.kernelRelease}</td>
                  <td className="px-3 py-1.5 text-right text-xs tabular text-muted-foreground">{countOf(k.hosts, "host")}</td>
                  <td className="w-32 px-3 py-1.5 text-right">
                    <StatusBadge tone={buildTone[k.build]}>{buildLabel[k.build]}</StatusBadge>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      {p.skipped.length > 0 ? (
        <section>
          <h3 className="mb-1.5 flex items-center gap-1.5 text-xs font-medium text-muted-foreground">
            <SkipForward className="size-3.5" /> Skipped, each with a result saying why
          </h3>
          <ul className="rounded-md border border-border" data-testid="preview-skipped-reasons">
            {p.skipped.map((s) => (
              <li key={s.reason} className="flex items-center justify-between gap-3 border-b border-border px-3 py-1.5 text-xs last:border-b-0">
                <span className="text-foreground">{s.reason}</span>
                <span className="shrink-0 tabular text-muted-foreground">{countOf(s.hosts, "host")}</span>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}

/**
 * "Roll out": asks the server what would happen (hosts, releases, builds, waves), lets the operator
 * adjust the strategy (asked again on every change), and starts it. Lands on the rollout's page.
 */
export function RolloutDialog({
  open,
  onOpenChange,
  patchId,
  groupId,
  title,
  cves,
  groupName,
}: {
  open: boolean;
  onOpenChange: (o: boolean) => void;
  patchId: string;
  groupId: string;
  title: string;
  cves: string[];
  groupName: string;
}) {
  const router = useRouter();
  const [draft, setDraft] = React.useState<StrategyDraft>(DEFAULT_DRAFT);
  const [showStrategy, setShowStrategy] = React.useState(false);
  const custom = !isDefaultDraft(draft);
  const preview = useRolloutPreview(open ? { patchId, groupId, ...(custom ? { strategy: draftToStrategy(draft) } : {}) } : null);
  const start = useStartRollout();

  useOnOpen(open, () => {
    setDraft(DEFAULT_DRAFT);
    setShowStrategy(false);
    start.reset();
  });

  const p = preview.data;
  const strategyError = preview.error;
  const ready = !!p && !preview.isError && !preview.pending && !preview.isFetching;
  const go = async () => {
    try {
      const r = await start.mutateAsync({ patchId, groupId, ...(custom ? { strategy: draftToStrategy(draft) } : {}) });
      onOpenChange(false);
      router.push(`/rollouts/${r.id}`);
    } catch {
      /* shown below */
    }
  };

  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent
        className="top-[6vh] max-w-2xl"
        title={
          <span className="flex items-center gap-2">
            <Rocket className="size-4 text-primary" /> Roll out to {groupName}
          </span>
        }
        description={
          <span className="flex flex-wrap items-center gap-x-2 gap-y-1">
            <span className="text-foreground">{title}</span>
            <CveChips cves={cves} max={3} />
          </span>
        }
        footer={
          <>
            <Button variant="ghost" onClick={() => onOpenChange(false)}>
              Cancel
            </Button>
            <Button variant="primary" onClick={go} loading={start.isPending} disabled={!ready || !p || p.toPatch === 0} data-testid="rollout-confirm">
              <Rocket /> {p && p.toPatch > 0 ? `Roll out to ${countOf(p.toPatch, "host")}` : "Roll out"}
            </Button>
          </>
        }
      >
        <div className="scrollbar-thin -mx-5 max-h-[64vh] overflow-y-auto px-5" data-testid="rollout-preview">
          {!p && preview.isError ? (
            <InlineError error={plainMessage(preview.error)} />
          ) : !p ? (
            <div className="flex flex-col gap-3" aria-busy="true">
              <div className="grid grid-cols-4 gap-2">
                {Array.from({ length: 4 }, (_, i) => (
                  <Skeleton key={i} className="h-14" />
                ))}
              </div>
              <Skeleton className="h-10" />
              <Skeleton className="h-24" />
            </div>
          ) : (
            <div className={cn("transition-opacity", (preview.pending || preview.isFetching) && "opacity-60")}>
              {p.toPatch === 0 ? (
                <p className="mb-4 flex items-start gap-2 rounded-md border border-border bg-muted/50 px-3 py-2 text-[13px]">
                  <Info className="mt-0.5 size-4 shrink-0 text-muted-foreground" />
                  Nothing to do: no member of {groupName} needs this patch now.
                </p>
              ) : null}
              <PreviewBody p={p} />
            </div>
          )}
          <div className="mt-4 rounded-md border border-border">
            <button
              type="button"
              onClick={() => setShowStrategy((s) => !s)}
              aria-expanded={showStrategy}
              className="flex w-full items-center gap-2 px-3 py-2 text-left text-[13px] font-medium hover:bg-muted/50"
              data-testid="strategy-toggle"
            >
              <ChevronRight className={cn("size-3.5 text-muted-foreground transition-transform", showStrategy && "rotate-90")} />
              Strategy
              <span className="font-normal text-muted-foreground">{custom ? "· customised" : "· defaults"}</span>
              {preview.pending || preview.isFetching ? <Spinner className="ml-auto size-3 text-subtle-foreground" /> : null}
              {strategyError && p ? <AlertTriangle className="ml-auto size-3.5 text-bad" /> : null}
            </button>
            {showStrategy ? (
              <div className="border-t border-border p-3">
                <StrategyEditor draft={draft} onChange={setDraft} error={strategyError} />
                {custom ? (
                  <button type="button" className="mt-3 text-xs text-primary hover:underline" onClick={() => setDraft(DEFAULT_DRAFT)}>
                    Reset to defaults
                  </button>
                ) : null}
              </div>
            ) : null}
          </div>
          {strategyError && p ? <InlineError className="mt-3" error={plainMessage(strategyError)} /> : null}
          {start.error ? <InlineError className="mt-3" error={plainMessage(start.error)} /> : null}
        </div>
      </DialogContent>
    </Dialog>
  );
}
