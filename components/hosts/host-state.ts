import type { Host } from "@/lib/api/schemas";
import type { Tone } from "../ui/badge";

export type HostState = "online" | "stale" | "offline" | "revoked" | "decommissioned";

export const HOST_STATE: Record<HostState, { tone: Tone; label: string; hint: string }> = {
  online: { tone: "ok", label: "Online", hint: "Connected and reporting" },
  stale: { tone: "warn", label: "Stale", hint: "Not heard from for longer than the stale threshold" },
  offline: { tone: "off", label: "Offline", hint: "Disconnected recently" },
  revoked: { tone: "bad", label: "Revoked", hint: "Credential revoked: the agent can no longer connect" },
  decommissioned: { tone: "off", label: "Decommissioned", hint: "Retired: hidden from the default views" },
};

/** One rule for every page: online > revoked/decommissioned > stale (silent too long) > offline. */
export function hostState(
  h: Pick<Host, "status" | "online" | "lastSeenAt">,
  staleAfterSec: number | undefined,
  now: number = Date.now(),
): HostState {
  if (h.status === "revoked") return "revoked";
  if (h.status === "decommissioned") return "decommissioned";
  if (h.online) return "online";
  if (staleAfterSec !== undefined) {
    const seen = h.lastSeenAt ? new Date(h.lastSeenAt).getTime() : 0;
    if (now - seen > staleAfterSec * 1000) return "stale";
  }
  return "offline";
}
