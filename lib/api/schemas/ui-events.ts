// API schemas: live updates on the socket.io namespace /ui. lib/api/schemas/index.ts exports every domain's.
export const UI_NAMESPACE = "/ui";
export interface UiServerEvents {
  /** Hosts whose row changed (inventory, online state, labels). Coalesced, at most ~4/s. */
  "hosts:changed": (e: { ids: string[]; all?: boolean }) => void;
  "audit:appended": (e: { seq: string }) => void;
  /** Builds of a patch changed state, or (`log`) one's log grew. */
  "builds:changed": (e: { patchId: string; buildId?: string; log: boolean }) => void;
  /** A rollout's status or host states changed. Coalesced per rollout, at most ~4/s. */
  "rollouts:changed": (e: { ids: string[] }) => void;
}
