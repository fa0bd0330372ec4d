"use client";
import * as React from "react";
import { Cpu, FileDiff, RefreshCcw, FileWarning, GitMerge, Plug, Repeat, Rocket, RotateCw, ShieldCheck, ShieldOff, Sparkles, Tag, Unplug, type LucideIcon } from "lucide-react";
import type { HostEvent } from "@/lib/api/schemas";
import { cn } from "../ui/cn";
import { RelativeTime } from "../ui/relative-time";
import { StatusBadge, type Tone } from "../ui/badge";
import Link from "next/link";
import { LabelChip } from "./label-chips";
import { FAILED_HOST_STATES, HOST, isHostState, isIn } from "@/lib/rollouts/states";

const EVENT: Record<HostEvent["type"], { icon: LucideIcon; tone: Tone; title: string }> = {
  enrolled: { icon: Sparkles, tone: "accent", title: "Enrolled" },
  connected: { icon: Plug, tone: "ok", title: "Connected" },
  disconnected: { icon: Unplug, tone: "off", title: "Disconnected" },
  reconnected: { icon: Repeat, tone: "warn", title: "Reconnected" },
  kernel_changed: { icon: Cpu, tone: "warn", title: "Kernel changed" },
  rebooted: { icon: RotateCw, tone: "info", title: "Rebooted" },
  reloaded: { icon: RefreshCcw, tone: "info", title: "Patches reloaded at boot" },
  livepatches_changed: { icon: FileDiff, tone: "accent", title: "Livepatches changed" },
  labels_changed: { icon: Tag, tone: "neutral", title: "Labels changed" },
  revoked: { icon: ShieldOff, tone: "bad", title: "Revoked" },
  restored: { icon: ShieldCheck, tone: "ok", title: "Restored" },
  merged: { icon: GitMerge, tone: "warn", title: "Merged" },
  artifact_rejected: { icon: FileWarning, tone: "bad", title: "Artifact refused" },
  rollout_result: { icon: Rocket, tone: "accent", title: "Rollout result" },
};

const toneRing: Record<Tone, string> = {
  ok: "text-ok bg-ok-soft border-ok/25",
  warn: "text-warn bg-warn-soft border-warn/25",
  bad: "text-bad bg-bad-soft border-bad/25",
  off: "text-off bg-off-soft border-off/25",
  info: "text-info bg-info-soft border-info/25",
  neutral: "text-muted-foreground bg-muted border-border",
  accent: "text-accent-foreground bg-accent border-primary/20",
};

const str = (v: unknown) => (typeof v === "string" ? v : v === null || v === undefined ? "" : JSON.stringify(v));
const arr = (v: unknown) => (Array.isArray(v) ? v.map(str) : []);
const short = (id: string) => (id.length > 12 ? id.slice(0, 8) : id);

function Mono({ children }: { children: React.ReactNode }) {
  return <code className="rounded bg-muted px-1 py-px font-mono text-[11px] text-foreground">{children}</code>;
}

function EventDetails({ e }: { e: HostEvent }) {
  const d = e.details ?? {};
  switch (e.type) {
    case "enrolled":
      if (d.rotated) return <>New credential: the agent proved it held the current one.</>;
      if (d.possibleDuplicateOf) {
        return (
          <>
            Joined the fleet as a possible duplicate of{" "}
            <Link href={`/hosts/${str(d.possibleDuplicateOf)}`} className="font-medium text-foreground hover:text-primary hover:underline">
              another host
            </Link>{" "}
            (same machine id).
          </>
        );
      }
      return d.reenrolled ? <>Re-enrolled with a new credential{d.previousStatus ? ` (was ${str(d.previousStatus)})` : ""}.</> : <>Joined the fleet.</>;
    case "connected":
      return d.ip ? (
        <>
          From <Mono>{str(d.ip)}</Mono>
        </>
      ) : null;
    case "disconnected":
      return d.reason ? <>{str(d.reason)}</> : null;
    case "reconnected":
      // Quick reconnects are counted in one entry (lib/fleet/presence.ts).
      return (
        <>
          {Number(d.count) > 1 ? `${str(d.count)} quick reconnects` : "Back within moments"}
          {d.firstAt ? <> since <RelativeTime date={str(d.firstAt)} /></> : null}
          {d.lastReason ? <>; last disconnect: {str(d.lastReason)}</> : null}
          {d.ip ? (
            <>
              {" "}from <Mono>{str(d.ip)}</Mono>
            </>
          ) : null}
        </>
      );
    case "kernel_changed":
      return (
        <span className="flex flex-wrap items-center gap-1">
          <Mono>{str(d.from)}</Mono> <span className="text-subtle-foreground">→</span> <Mono>{str(d.to)}</Mono>
        </span>
      );
    case "rebooted":
      return (
        <>
          Boot id <Mono>{short(str(d.fromBootId))}</Mono> → <Mono>{short(str(d.toBootId))}</Mono>
        </>
      );
    case "reloaded": {
      // What the agent did with each kept patch when it started on this boot (agent/boot/reload.ts).
      const patches = Array.isArray(d.patches) ? (d.patches as { moduleName?: unknown; outcome?: unknown; reason?: unknown }[]) : [];
      return (
        <span className="flex flex-wrap items-center gap-1">
          {patches.map((p) => (
            <span key={str(p.moduleName)} className="font-mono text-[11px]" title={str(p.reason)}>
              {str(p.moduleName)}: {str(p.outcome).replace(/_/g, " ")}
            </span>
          ))}
        </span>
      );
    }
    case "livepatches_changed": {
      const loaded = arr(d.loaded);
      const unloaded = arr(d.unloaded);
      return (
        <span className="flex flex-wrap items-center gap-1">
          {loaded.map((n) => (
            <span key={`+${n}`} className="font-mono text-[11px] text-ok">
              +{n}
            </span>
          ))}
          {unloaded.map((n) => (
            <span key={`-${n}`} className="font-mono text-[11px] text-bad">
              −{n}
            </span>
          ))}
          {loaded.length + unloaded.length === 0 ? "State changed (enabled or transition)" : null}
        </span>
      );
    }
    case "labels_changed": {
      const set = (d.set && typeof d.set === "object" ? d.set : {}) as Record<string, unknown>;
      const removed = arr(d.removed);
      return (
        <span className="flex flex-wrap items-center gap-1">
          {Object.entries(set).map(([k, v]) => (
            <LabelChip key={k} k={k} v={str(v)} className="border-ok/30" />
          ))}
          {removed.map((k) => (
            <span key={k} className="font-mono text-[11px] text-bad line-through">
              {k}
            </span>
          ))}
          {d.by ? <span className="text-subtle-foreground">by {str(d.by)}</span> : null}
        </span>
      );
    }
    case "revoked":
      return (
        <>
          {str(d.status) === "decommissioned" ? "Decommissioned" : "Credential revoked"}
          {d.by ? ` by ${str(d.by)}` : ""}
          {d.reason ? <>: “{str(d.reason)}”</> : null}
        </>
      );
    case "restored":
      return (
        <>
          Restored{d.by ? ` by ${str(d.by)}` : ""}
          {d.reason ? <>: “{str(d.reason)}”</> : null}
          {d.credentialKept === false ? " (no credential kept: the agent must enroll again)" : ""}
        </>
      );
    case "merged": {
      const into = (d.into && typeof d.into === "object" ? d.into : null) as Record<string, unknown> | null;
      const from = (d.from && typeof d.from === "object" ? d.from : null) as Record<string, unknown> | null;
      const other = into ?? from;
      return (
        <>
          {into ? "Merged into " : "Took over the agent of duplicate "}
          {other ? (
            <Link href={`/hosts/${str(other.id)}`} className="font-medium text-foreground hover:text-primary hover:underline">
              {str(other.hostname)}
            </Link>
          ) : null}
          {d.by ? ` by ${str(d.by)}` : ""}
          {d.reason ? <>: “{str(d.reason)}”</> : null}
        </>
      );
    }
    case "artifact_rejected":
      return (
        <>
          The agent refused build <Mono>{short(str(d.buildId))}</Mono>: {str(d.reason)}
        </>
      );
    case "rollout_result": {
      const state = str(d.state);
      const tone: Tone = !isHostState(state) ? "neutral" : state === HOST.succeeded ? "ok" : isIn(FAILED_HOST_STATES, state) ? "bad" : state === HOST.skipped ? "off" : "neutral";
      const patch = d.patch && typeof d.patch === "object" ? str((d.patch as Record<string, unknown>).title) : str(d.patch);
      return (
        <span className="flex flex-col gap-0.5">
          <span className="flex flex-wrap items-center gap-1">
            <Link href={`/rollouts/${str(d.rolloutId)}`} className="font-medium text-foreground hover:text-primary hover:underline">
              {d.kind === "rollback" ? "Rollback" : "Rollout"} {d.number !== undefined ? str(d.number) : short(str(d.rolloutId))}
            </Link>
            <StatusBadge tone={tone} className="h-4 text-[10px]">
              {state.replace(/_/g, " ") || "result"}
            </StatusBadge>
          </span>
          {patch ? <span className="truncate">{patch}</span> : null}
          {d.error ? <span className="break-words text-bad">{str(d.error)}</span> : null}
        </span>
      );
    }
    default:
      return null;
  }
}

export function EventTimeline({ events }: { events: HostEvent[] }) {
  const [showAll, setShowAll] = React.useState(false);
  const shown = showAll ? events : events.slice(0, 25);
  if (events.length === 0) return <p className="px-4 py-6 text-center text-[13px] text-muted-foreground">No events recorded yet.</p>;
  return (
    <div>
      <ol className="relative px-4 py-3" data-testid="host-timeline">
        {shown.map((e, i) => {
          const meta = EVENT[e.type] ?? EVENT.labels_changed;
          const Icon = meta.icon;
          return (
            <li key={e.id} className="relative flex gap-3 pb-3 last:pb-0" data-event={e.type}>
              {i < shown.length - 1 ? <span className="absolute left-[11px] top-6 h-[calc(100%-1.25rem)] w-px bg-border" aria-hidden="true" /> : null}
              <span className={cn("relative z-[1] flex size-6 shrink-0 items-center justify-center rounded-full border", toneRing[meta.tone])}>
                <Icon className="size-3" />
              </span>
              <div className="min-w-0 flex-1 pt-0.5">
                <div className="flex items-baseline justify-between gap-3">
                  <span className="text-[13px] font-medium">{meta.title}</span>
                  <RelativeTime date={e.at} className="shrink-0 text-xs text-subtle-foreground" />
                </div>
                <div className="mt-0.5 text-xs text-muted-foreground">
                  <EventDetails e={e} />
                </div>
              </div>
            </li>
          );
        })}
      </ol>
      {events.length > shown.length ? (
        <div className="border-t border-border px-4 py-2">
          <button type="button" onClick={() => setShowAll(true)} className="text-xs font-medium text-primary hover:underline">
            Show {events.length - shown.length} older events
          </button>
        </div>
      ) : null}
    </div>
  );
}
