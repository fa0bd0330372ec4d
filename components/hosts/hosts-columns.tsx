"use client";
import Link from "next/link";
import { createColumnHelper } from "@tanstack/react-table";
import type { Host } from "@/lib/api/schemas";
import { RelativeTime, relativeTimeCell } from "../ui/relative-time";
import { Tooltip } from "../ui/tooltip";
import { Badge } from "../ui/badge";
import { HostStateDot, useHostState } from "./host-state-badge";
import { LabelList } from "./label-chips";
import { DuplicateOf } from "./identity-actions";

const col = createColumnHelper<Host>();

function StateCell({ host }: { host: Host }) {
  const s = useHostState(host);
  return (
    <Tooltip content={s.hint} side="right">
      <span tabIndex={-1} className="inline-flex items-center gap-1.5 text-xs" data-state={s.state}>
        <HostStateDot host={host} />
        <span className={s.state === "online" ? "text-foreground" : "text-muted-foreground"}>{s.label}</span>
      </span>
    </Tooltip>
  );
}

function DriftBadge({ host }: { host: Host }) {
  if (!host.drifting) return null;
  return (
    <Tooltip content="Its live patches differ from what its rollouts applied for this kernel (see the host's page)">
      <Link href={`/hosts/${host.id}#drift`} data-testid="host-drift" className="inline-flex">
        <Badge tone="warn">drift</Badge>
      </Link>
    </Tooltip>
  );
}

function LivepatchCell({ host }: { host: Host }) {
  const lps = host.livepatches;
  if (lps.length === 0) {
    return (
      <span className="inline-flex items-center gap-1.5">
        <span className="text-subtle-foreground">none</span>
        <DriftBadge host={host} />
      </span>
    );
  }
  const transitioning = lps.some((l) => l.transition);
  const disabled = lps.filter((l) => !l.enabled).length;
  return (
    <span className="inline-flex items-center gap-1.5">
      <Tooltip
        content={
          <ul className="space-y-0.5 py-0.5 font-mono text-[11px]">
            {lps.map((l) => (
              <li key={l.name}>
                {l.name}
                {!l.enabled ? " (disabled)" : l.transition ? " (in transition)" : ""}
              </li>
            ))}
          </ul>
        }
      >
        <span tabIndex={0} className="inline-flex">
          <Badge tone={transitioning ? "warn" : disabled ? "off" : "ok"}>
            {lps.length} {transitioning ? "in transition" : "loaded"}
          </Badge>
        </span>
      </Tooltip>
      <DriftBadge host={host} />
    </span>
  );
}

export const hostColumns = [
  col.accessor("online", {
    id: "online",
    header: "State",
    size: 100,
    cell: (c) => <StateCell host={c.row.original} />,
  }),
  col.accessor("hostname", {
    header: "Hostname",
    size: 210,
    cell: (c) => (
      <>
        <Link
          href={`/hosts/${c.row.original.id}`}
          className="block max-w-[18rem] truncate font-medium text-foreground hover:text-primary hover:underline focus-visible:outline-offset-1"
          data-testid="host-link"
        >
          {c.getValue()}
        </Link>
        {c.row.original.duplicateOf ? (
          <span className="mt-1 block">
            <DuplicateOf host={c.row.original} />
          </span>
        ) : null}
      </>
    ),
  }),
  col.accessor("kernelRelease", {
    header: "Kernel release",
    size: 210,
    cell: (c) => <span className="font-mono text-xs">{c.getValue()}</span>,
  }),
  col.accessor((h) => h.distro.name, {
    id: "distro",
    header: "Distribution",
    size: 170,
    meta: { className: "hidden lg:table-cell" },
    cell: (c) => (
      <span className="block max-w-[12rem] truncate text-muted-foreground" title={`${c.row.original.distro.name} (${c.row.original.arch})`}>
        {c.getValue()}
      </span>
    ),
  }),
  col.display({
    id: "livepatches",
    header: "Livepatches",
    size: 110,
    cell: (c) => <LivepatchCell host={c.row.original} />,
  }),
  col.accessor("labels", {
    header: "Labels",
    enableSorting: false,
    cell: (c) => <LabelList labels={c.getValue()} max={2} />,
  }),
  col.accessor("lastIp", {
    header: "Address",
    size: 120,
    enableSorting: false,
    meta: { className: "hidden 2xl:table-cell" },
    cell: (c) => <span className="font-mono text-xs text-muted-foreground">{c.getValue() ?? "—"}</span>,
  }),
  col.accessor("lastSeenAt", {
    header: "Last seen",
    size: 96,
    meta: { align: "right" },
    cell: (c) =>
      c.row.original.online ? (
        <span className="text-xs text-ok" title={c.getValue() ?? undefined}>
          now
        </span>
      ) : (
        <RelativeTime date={c.getValue()} className="text-xs text-muted-foreground" />
      ),
  }),
  col.accessor("enrolledAt", {
    header: "Enrolled",
    size: 96,
    meta: { align: "right", className: "hidden 2xl:table-cell" },
    cell: relativeTimeCell,
  }),
];
