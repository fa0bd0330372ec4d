"use client";
import Link from "next/link";
import * as React from "react";
import { GitCompareArrows, RotateCcw, ShieldCheck } from "lucide-react";
import { useReapplyToHost } from "../hooks/use-hosts";
import { useOperator } from "../hooks/operator-context";
import { Button } from "../ui/button";
import { InlineError } from "../ui/error-state";
import type { DriftCause, HostDetail } from "@/lib/api/schemas";
import { Card, CardHeader } from "../ui/card";
import { Badge, StatusBadge, type Tone } from "../ui/badge";
import { RelativeTime } from "../ui/relative-time";

/** How each cause reads, and how worried to look. */
const CAUSE: Record<DriftCause, { label: string; tone: Tone }> = {
  reload_failed: { label: "reload failed", tone: "bad" },
  reload_refused: { label: "reload refused", tone: "bad" },
  reload_disabled: { label: "reload turned off", tone: "neutral" },
  rebooted: { label: "not reloaded", tone: "warn" },
  removed: { label: "removed", tone: "warn" },
  disabled: { label: "disabled", tone: "warn" },
  unrecorded: { label: "not live", tone: "warn" },
};

function ReloadLine({ h }: { h: HostDetail }) {
  const r = h.drift.reload;
  if (!r || r.bootId !== h.bootId) return null;
  const loaded = r.patches.filter((p) => p.outcome === "loaded").length;
  return (
    <p className="px-4 pb-3 text-xs text-muted-foreground" data-testid="host-reload">
      At this boot (<RelativeTime date={r.at} />) the agent loaded {loaded} of {r.patches.length} kept patch{r.patches.length === 1 ? "" : "es"} again before connecting.
    </p>
  );
}

function ReapplyButton({ h }: { h: HostDetail }) {
  const op = useOperator();
  const reapply = useReapplyToHost(h.id);
  if (!op.can("operator") || h.status !== "active" || h.drift.missing.length === 0) return null;
  const started = reapply.data?.rollouts ?? [];
  return (
    <div className="flex flex-wrap items-center gap-3 border-t border-border px-4 py-2.5">
      <Button size="sm" onClick={() => reapply.mutate()} loading={reapply.isPending} data-testid="host-reapply">
        <RotateCcw /> Re-apply {h.drift.missing.length === 1 ? "it" : `all ${h.drift.missing.length}`}
      </Button>
      {started.length ? (
        <span className="text-xs text-muted-foreground" role="status">
          Started{" "}
          {started.map((id, i) => (
            <React.Fragment key={id}>
              {i ? ", " : ""}
              <Link href={`/rollouts/${id}`} className="underline">
                a rollout
              </Link>
            </React.Fragment>
          ))}
          .
        </span>
      ) : (
        <span className="text-xs text-muted-foreground">{h.online ? "A rollout to this host alone, one per patch." : "The host is offline: the rollout waits for it, until its timeout."}</span>
      )}
      {reapply.error ? <InlineError error={reapply.error} /> : null}
    </div>
  );
}

/** What the host's rollouts applied for the kernel it runs, against what is live: drift and why. */
export function HostDrift({ h }: { h: HostDetail }) {
  const { missing, unexpected } = h.drift;
  const count = missing.length + unexpected.length;
  return (
    <Card id="drift">
      <CardHeader
        icon={<GitCompareArrows />}
        title="Should be live"
        description={`What this host's rollouts applied for ${h.kernelRelease || "its kernel"}, against what is live`}
        actions={count > 0 ? <Badge tone="warn">{count} drift</Badge> : <Badge tone="ok">in sync</Badge>}
      />
      {count === 0 ? (
        <div className="flex items-center gap-2.5 px-4 py-4 text-[13px] text-muted-foreground" data-testid="host-drift-none">
          <ShieldCheck className="size-4 shrink-0 text-ok" /> Every patch its rollouts applied for this kernel is live, and nothing else of Splicer's is.
        </div>
      ) : (
        <ul className="divide-y divide-border" data-testid="host-drift-list">
          {missing.map((m) => (
            <li key={m.patchId} className="flex items-start gap-3 px-4 py-2.5" data-testid="drift-missing" data-cause={m.cause}>
              <StatusBadge tone={CAUSE[m.cause].tone}>{CAUSE[m.cause].label}</StatusBadge>
              <span className="flex min-w-0 flex-1 flex-col gap-0.5">
                <Link href={`/patches/${m.patchId}`} className="truncate text-[13px] font-medium hover:underline">
                  {m.title}
                </Link>
                <span className="text-xs text-muted-foreground">{m.why}</span>
                <span className="text-xs text-subtle-foreground">
                  <code className="font-mono">{m.moduleName}</code> · applied by{" "}
                  <Link href={`/rollouts/${m.rolloutId}`} className="hover:underline">
                    a rollout
                  </Link>{" "}
                  <RelativeTime date={m.appliedAt} />
                </span>
              </span>
            </li>
          ))}
          {unexpected.map((u) => (
            <li key={u.moduleName} className="flex items-start gap-3 px-4 py-2.5" data-testid="drift-unexpected">
              <StatusBadge tone="warn">unexpected</StatusBadge>
              <span className="flex min-w-0 flex-1 flex-col gap-0.5">
                <Link href={`/patches/${u.patchId}`} className="truncate text-[13px] font-medium hover:underline">
                  {u.title}
                </Link>
                <span className="text-xs text-muted-foreground">
                  Live, but no rollout applied it to this host for this kernel (loaded by hand?). <code className="font-mono">{u.moduleName}</code>
                </span>
              </span>
            </li>
          ))}
        </ul>
      )}
      <ReapplyButton h={h} />
      <ReloadLine h={h} />
    </Card>
  );
}
