// What the agent needs from "the kernel". Two implementations: `livepatch` (the real kernel via
// sysfs and insmod/rmmod) and `simulate` (an in-memory kernel for the demo fleet and tests).
// Everything the agent does to the kernel goes through this interface so the simulator exercises
// the same agent code.
import type { BlockingTask, Inventory, Livepatch } from "../protocol";
import type { JOB_PHASE } from "../protocol";

export type { BlockingTask, Livepatch };

/** Inventory fields that describe the machine and its running kernel. */
export type HostFacts = Omit<Inventory, "livepatches" | "agentVersion">;

export const BACKEND_NAMES = ["livepatch", "simulate"] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** The phases a backend reports while it changes the kernel (the job's earlier ones are the runner's). */
export type BackendPhase = typeof JOB_PHASE.applying | typeof JOB_PHASE.verifying;

export interface RevertOptions {
  /** The livepatch module, also its /sys/kernel/livepatch/<name> directory. */
  moduleName: string;
  /** Time left for the whole operation; a transition still running then is reversed. */
  timeoutMs: number;
  /** Aborted when the job's deadline passes: stop waiting, put the kernel back, throw. */
  signal?: AbortSignal;
  onPhase?: (phase: BackendPhase) => void;
  /** One line for the job log (what was run, what the kernel said). */
  onLog?: (line: string) => void;
}

export interface ApplyOptions extends RevertOptions {
  /** The verified artifact (a .ko for the real kernel). */
  artifact: Uint8Array;
}

export interface KernelChange {
  /** False when the kernel already was in the wanted state (a resumed or repeated job). */
  changed: boolean;
}

/** An apply or revert that did not happen; the kernel is left as it was before the attempt. */
export class KernelError extends Error {
  readonly blockingTasks?: BlockingTask[];
  /** The operation ran out of time (a stalled transition), as opposed to being refused. */
  readonly timedOut: boolean;

  constructor(message: string, opts: { blockingTasks?: BlockingTask[]; timedOut?: boolean } = {}) {
    super(message);
    this.name = "KernelError";
    if (opts.blockingTasks?.length) this.blockingTasks = opts.blockingTasks;
    this.timedOut = opts.timedOut ?? false;
  }
}

export interface KernelBackend {
  readonly name: BackendName;
  /**
   * Host facts this backend knows better than the machine's /proc and /etc. Empty for the real
   * kernel; the simulator's pretend kernel overrides the kernel release, boot id, etc.
   */
  inventoryOverrides(): Partial<HostFacts>;
  /** The livepatches loaded in the running kernel, sorted by name. */
  listLivepatches(): Promise<Livepatch[]>;
  /**
   * Loads and enables a livepatch and waits for its transition. Checks the kernel first: a patch
   * already loaded and enabled is not loaded again (`changed: false`). Throws KernelError.
   */
  apply(opts: ApplyOptions): Promise<KernelChange>;
  /** Disables and unloads a livepatch; one already gone is `changed: false`. Throws KernelError. */
  revert(opts: RevertOptions): Promise<KernelChange>;
}

/** "3121 (postgres), 88 (kworker/0:1)": blocking tasks for a one-line error. */
export function describeTasks(tasks: readonly BlockingTask[], max = 5): string {
  const shown = tasks.slice(0, max).map((t) => `${t.pid} (${t.comm})`);
  return shown.join(", ") + (tasks.length > max ? ` and ${tasks.length - max} more` : "");
}
