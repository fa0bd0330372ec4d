"use client";
import type { Host } from "@/lib/api/schemas";
import { StatusBadge, StatusDot } from "../ui/badge";
import { Tooltip } from "../ui/tooltip";
import { useSettings } from "../hooks/use-admin";
import { HOST_STATE, hostState } from "./host-state";

export function useHostState(h: Pick<Host, "status" | "online" | "lastSeenAt">) {
  const { data: settings } = useSettings();
  const state = hostState(h, settings?.staleAfterSec);
  return { state, ...HOST_STATE[state] };
}

export function HostStateBadge({ host }: { host: Pick<Host, "status" | "online" | "lastSeenAt"> }) {
  const s = useHostState(host);
  return (
    <Tooltip content={s.hint}>
      <span tabIndex={-1} className="inline-flex" data-state={s.state}>
        <StatusBadge tone={s.tone} pulse={s.state === "online"}>
          {s.label}
        </StatusBadge>
      </span>
    </Tooltip>
  );
}

export function HostStateDot({ host }: { host: Pick<Host, "status" | "online" | "lastSeenAt"> }) {
  const s = useHostState(host);
  return <StatusDot tone={s.tone} label={s.label} />;
}
