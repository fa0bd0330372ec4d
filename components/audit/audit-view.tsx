"use client";
import * as React from "react";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { createColumnHelper } from "@tanstack/react-table";
import { Bot, Cog, Download, KeyRound, ScrollText, SearchX, Server, User, X } from "lucide-react";
import { useHost } from "../hooks/use-hosts";
import type { AuditEvent } from "@/lib/api/schemas";
import { auditExportUrl, useAudit, type AuditFilter } from "../hooks/use-audit";
import { useDebouncedText } from "../hooks/use-debounced-text";
import { useOperator } from "../hooks/operator-context";
import { PageHeader } from "../ui/page-header";
import { Card } from "../ui/card";
import { QueryTable } from "../ui/data-table";
import { Badge, type Tone } from "../ui/badge";
import { Button, buttonClass } from "../ui/button";
import { Input } from "../ui/input";
import { ALL, Select } from "../ui/select";
import { relativeTimeCell } from "../ui/relative-time";
import { EmptyState } from "../ui/empty-state";
import { RemovableChip } from "../ui/chip";
import { CopyButton } from "../ui/copy-button";
import { Tooltip } from "../ui/tooltip";
import { formatExact, numberFmt } from "../ui/time";
import { VerifyBadge } from "./verify-badge";

const TARGET_TYPES = ["host", "group", "patch", "rollout", "operator", "enrollment_token", "api_token", "settings", "session"];
const RANGES = [
  { value: ALL, label: "Any time" },
  { value: "1h", label: "Last hour" },
  { value: "24h", label: "Last 24 hours" },
  { value: "7d", label: "Last 7 days" },
  { value: "30d", label: "Last 30 days" },
  { value: "custom", label: "Custom range…" },
];
const RANGE_MS: Record<string, number> = { "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3 };

function actionTone(action: string): Tone {
  if (/failed|revoked|decommission|broken|denied|rejected/.test(action)) return "bad";
  if (/aborted|paused|rolled_back|abort_finished/.test(action)) return "warn";
  if (/completed|approved|resumed|started|staged/.test(action)) return "ok";
  if (/enrolled|created/.test(action)) return "ok";
  if (/updated|labels|password|settings/.test(action)) return "info";
  return "neutral";
}

const ACTOR_ICON = { operator: User, api_token: KeyRound, agent: Bot, system: Cog } as const;

function summarize(details: Record<string, unknown>): string {
  return Object.entries(details)
    .filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join("  ");
}

function targetHref(type: string | null, id: string | null): string | null {
  if (!type || !id) return null;
  if (type === "host") return `/hosts/${id}`;
  if (type === "rollout") return `/rollouts/${id}`;
  if (type === "group") return `/groups/${id}`;
  if (type === "patch") return `/patches/${id}`;
  return null;
}

/** datetime-local value (local time) <-> ISO */
function toLocalInput(iso?: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

const col = createColumnHelper<AuditEvent>();

function useAuditUrlState() {
  const sp = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const range = sp.get("range") ?? ALL;
  // Relative ranges are resolved when the URL changes, so the query key stays stable while reading.
  const filter: AuditFilter = React.useMemo(() => {
    const f: AuditFilter = {
      actor: sp.get("actor") || undefined,
      action: sp.get("action") || undefined,
      targetType: sp.get("targetType") || undefined,
      targetId: sp.get("targetId") || undefined,
      host: sp.get("host") || undefined,
    };
    if (range in RANGE_MS) f.from = new Date(Date.now() - RANGE_MS[range]).toISOString();
    else if (range === "custom") {
      f.from = sp.get("from") || undefined;
      f.to = sp.get("to") || undefined;
    }
    return f;
  }, [sp, range]);
  const update = React.useCallback(
    (patch: Record<string, string | undefined>) => {
      const next = new URLSearchParams(sp.toString());
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined || v === "" || v === ALL) next.delete(k);
        else next.set(k, v);
      }
      const qs = next.toString();
      router.replace(qs ? `${pathname}?${qs}` : pathname, { scroll: false });
    },
    [sp, router, pathname],
  );
  const active = ["actor", "action", "targetType", "targetId", "range", "host"].some((k) => sp.get(k));
  return { filter, range, update, active, sp };
}

/** "Host: web-01": events of the host and of every rollout that touched it. */
function HostFilterChip({ id, onRemove }: { id: string; onRemove: () => void }) {
  const { data } = useHost(id);
  return (
    <RemovableChip className="h-7 rounded-md" removeLabel="Remove host filter" onRemove={onRemove} testId="audit-host-filter">
      <Server className="size-3" />
      <span className="text-muted-foreground">Host</span>
      <Link href={`/hosts/${id}`} className="font-medium hover:underline">
        {data?.hostname ?? id.slice(0, 8)}
      </Link>
      <span className="text-subtle-foreground">and its rollouts</span>
    </RemovableChip>
  );
}

/** One end of a custom time range: typed in local time, kept in the URL as an ISO instant. */
function InstantInput({ label, iso, onChange }: { label: string; iso: string | null; onChange: (iso: string | undefined) => void }) {
  return (
    <Input
      type="datetime-local"
      aria-label={label}
      value={toLocalInput(iso ?? undefined)}
      onChange={(e) => onChange(e.target.value ? new Date(e.target.value).toISOString() : undefined)}
      className="w-48"
    />
  );
}

function DebouncedInput({ value, onCommit, ...props }: { value: string; onCommit: (v: string) => void } & Omit<React.InputHTMLAttributes<HTMLInputElement>, "value" | "onChange">) {
  const { text, setText } = useDebouncedText(value, onCommit, 300);
  return <Input value={text} onChange={(e) => setText(e.target.value)} {...props} />;
}

export function AuditView() {
  const op = useOperator();
  const { filter, range, update, active, sp } = useAuditUrlState();
  const audit = useAudit(filter);
  const [expanded, setExpanded] = React.useState<string | null>(null);
  const items = React.useMemo(() => audit.data?.pages.flatMap((p) => p.items) ?? [], [audit.data]);

  const columns = React.useMemo(
    () => [
      col.accessor("seq", {
        header: "#",
        size: 64,
        cell: (c) => <span className="font-mono text-xs text-subtle-foreground">{c.getValue()}</span>,
      }),
      col.accessor("at", { header: "Time", size: 100, cell: relativeTimeCell }),
      col.accessor("actorName", {
        header: "Actor",
        size: 160,
        cell: (c) => {
          const Icon = ACTOR_ICON[c.row.original.actorType] ?? User;
          return (
            <span className="flex min-w-0 items-center gap-1.5" title={`${c.row.original.actorType}${c.row.original.actorId ? ` ${c.row.original.actorId}` : ""}`}>
              <Icon className="size-3.5 shrink-0 text-subtle-foreground" />
              <span className="truncate">{c.getValue()}</span>
            </span>
          );
        },
      }),
      col.accessor("action", {
        header: "Action",
        size: 176,
        cell: (c) => (
          <Badge tone={actionTone(c.getValue())} mono>
            {c.getValue()}
          </Badge>
        ),
      }),
      col.accessor("targetType", {
        header: "Target",
        size: 176,
        cell: (c) => {
          const t = c.row.original;
          if (!t.targetType) return <span className="text-subtle-foreground">—</span>;
          const href = targetHref(t.targetType, t.targetId);
          const d = t.details ?? {};
          const label =
            (d.hostname as string | undefined) ??
            (d.username as string | undefined) ??
            (t.targetType === "rollout" && d.number !== undefined ? `#${String(d.number)}` : undefined) ??
            (typeof d.name === "string" ? d.name : undefined) ??
            (typeof d.title === "string" ? d.title : undefined) ??
            t.targetId?.slice(0, 8);
          return (
            <span className="flex min-w-0 items-center gap-1.5 text-xs">
              <span className="text-subtle-foreground">{t.targetType}</span>
              {href ? (
                <Link href={href} className="truncate font-medium text-foreground hover:text-primary hover:underline">
                  {label}
                </Link>
              ) : label ? (
                <span className="truncate font-mono">{label}</span>
              ) : null}
            </span>
          );
        },
      }),
      col.accessor("details", {
        header: "Details",
        cell: (c) => <span className="block truncate font-mono text-[11px] text-muted-foreground">{summarize(c.getValue()) || "—"}</span>,
      }),
      col.accessor("sourceIp", {
        header: "Source",
        size: 116,
        cell: (c) => <span className="font-mono text-xs text-muted-foreground">{c.getValue() ?? "—"}</span>,
      }),
      col.accessor("hash", {
        header: "Hash",
        size: 100,
        cell: (c) => (
          <Tooltip content={<span className="break-all font-mono text-[11px]">{c.getValue()}</span>}>
            <span tabIndex={0} className="font-mono text-xs text-subtle-foreground">
              {c.getValue().slice(0, 10)}
            </span>
          </Tooltip>
        ),
      }),
    ],
    [],
  );

  const clear = () => update({ actor: undefined, action: undefined, targetType: undefined, targetId: undefined, range: undefined, from: undefined, to: undefined, host: undefined });

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every action by operators, API tokens, agents and the system. Each event is hash-chained to the one before it."
        actions={
          <>
            {op.isAdmin ? <VerifyBadge /> : null}
            <a href={auditExportUrl(filter)} download className={buttonClass("secondary")} data-testid="audit-export">
              <Download /> Export CSV
            </a>
          </>
        }
      />
      <Card className="flex h-[calc(100vh-10.5rem)] min-h-[26rem] flex-col overflow-hidden">
        <div className="flex flex-wrap items-center gap-2 border-b border-border p-3">
          <DebouncedInput aria-label="Actor" placeholder="Actor (e.g. admin)" value={sp.get("actor") ?? ""} onCommit={(v) => update({ actor: v })} className="w-44" />
          <DebouncedInput aria-label="Action" placeholder="Action (e.g. host.revoked)" value={sp.get("action") ?? ""} onCommit={(v) => update({ action: v })} className="w-52 font-mono text-xs" />
          <Select
            ariaLabel="Target type"
            value={sp.get("targetType") ?? ALL}
            onValueChange={(v) => update({ targetType: v })}
            options={[{ value: ALL, label: "Any target" }, ...TARGET_TYPES.map((t) => ({ value: t, label: t }))]}
            className="w-40"
          />
          <DebouncedInput aria-label="Target id" placeholder="Target id" value={sp.get("targetId") ?? ""} onCommit={(v) => update({ targetId: v })} className="w-48 font-mono text-xs" />
          <Select ariaLabel="Time range" value={range} onValueChange={(v) => update({ range: v, ...(v !== "custom" ? { from: undefined, to: undefined } : {}) })} options={RANGES} className="w-40" />
          {range === "custom" ? (
            <span className="flex items-center gap-1.5 text-xs text-muted-foreground">
              <InstantInput label="From" iso={sp.get("from")} onChange={(from) => update({ from })} />
              to
              <InstantInput label="To" iso={sp.get("to")} onChange={(to) => update({ to })} />
            </span>
          ) : null}
          {filter.host ? <HostFilterChip id={filter.host} onRemove={() => update({ host: undefined })} /> : null}
          {active ? (
            <Button variant="ghost" onClick={clear}>
              <X /> Clear
            </Button>
          ) : null}
        </div>
        <QueryTable
          query={audit}
          errorTitle="Could not load the audit log"
          errorClassName="flex-1"
          caption="Audit events"
          fixed
          columns={columns}
          data={items}
          getRowId={(e) => e.seq}
          onRowClick={(row) => setExpanded((x) => (x === row.id ? null : row.id))}
          renderExpanded={(row) =>
            expanded === row.id ? (
              <div className="grid gap-3 text-xs lg:grid-cols-[1fr_auto]">
                <pre className="scrollbar-thin max-h-64 overflow-auto rounded-md border border-border bg-card p-3 font-mono text-[11px] leading-relaxed">
                  {JSON.stringify(row.original.details, null, 2)}
                </pre>
                <dl className="grid grid-cols-[auto_1fr] content-start gap-x-3 gap-y-1.5">
                  <dt className="text-muted-foreground">Time</dt>
                  <dd className="font-mono">{formatExact(new Date(row.original.at))}</dd>
                  <dt className="text-muted-foreground">Actor</dt>
                  <dd>
                    {row.original.actorType} · {row.original.actorName}
                    {row.original.actorId ? <span className="ml-1 font-mono text-subtle-foreground">{row.original.actorId}</span> : null}
                  </dd>
                  <dt className="text-muted-foreground">Target</dt>
                  <dd className="font-mono">
                    {row.original.targetType ?? "—"} {row.original.targetId ?? ""}
                  </dd>
                  <dt className="text-muted-foreground">Hash</dt>
                  <dd className="flex items-center gap-1.5 font-mono">
                    <span className="max-w-[22rem] truncate">{row.original.hash}</span>
                    <CopyButton text={row.original.hash} label="Copy hash" className="h-6 w-6" />
                  </dd>
                </dl>
              </div>
            ) : null
          }
          empty={
            active ? (
              <EmptyState compact icon={<SearchX />} title="No events match these filters" action={<Button onClick={clear}>Clear filters</Button>}>
                Widen the time range or remove a filter.
              </EmptyState>
            ) : (
              <EmptyState compact icon={<ScrollText />} title="Nothing recorded yet">
                Sign-ins, enrollments and every change made in the console are recorded here.
              </EmptyState>
            )
          }
          className="min-h-0 flex-1"
        />
        <div className="flex items-center justify-between border-t border-border px-4 py-2 text-xs text-muted-foreground">
          <span className="tabular">{audit.data ? `${numberFmt.format(items.length)} events shown, newest first` : "Loading…"}</span>
          {audit.hasNextPage ? (
            <Button size="sm" onClick={() => void audit.fetchNextPage()} loading={audit.isFetchingNextPage}>
              Load older events
            </Button>
          ) : audit.data && items.length > 0 ? (
            <span>Start of the log</span>
          ) : null}
        </div>
      </Card>
    </>
  );
}
