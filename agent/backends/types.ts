// What the agent needs from "the kernel". Two implementations: `livepatch` (the real kernel via
// sysfs) and `simulate` (an in-memory kernel for the demo fleet and tests). Applying and reverting
// patches will be added here as `apply(artifact)` / `revert(name)`; everything the agent does to
// the kernel goes through this interface so the simulator exercises the same agent code.
import type { Inventory, Livepatch } from "../protocol";

export type { Livepatch };

/** Inventory fields that describe the machine and its running kernel. */
export type HostFacts = Omit<Inventory, "livepatches" | "agentVersion">;

export const BACKEND_NAMES = ["livepatch", "simulate"] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface KernelBackend {
  readonly name: BackendName;
  /**
   * Host facts this backend knows better than the machine's /proc and /etc. Empty for the real
   * kernel; the simulator's pretend kernel overrides the kernel release, boot id, etc.
   */
  inventoryOverrides(): Partial<HostFacts>;
  /** The livepatches loaded in the running kernel, sorted by name. */
  listLivepatches(): Promise<Livepatch[]>;
}
