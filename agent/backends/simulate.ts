// An in-memory kernel for the demo fleet and tests: the kernel release, boot id, distro and
// loaded livepatches are whatever it was constructed with. Unset facts fall through to the real
// machine's, so `--backend simulate` on a workstation reports its real hostname.
// It "loads" the simulate builder's artifacts (JSON, not .ko files), taking a configurable time
// and failing at a configurable rate with the messages a real kernel would give.
import { randomUUID } from "node:crypto";
import { KernelError, type ApplyOptions, type HostFacts, type KernelBackend, type KernelChange, type Livepatch, type RevertOptions } from "./types";
import { realTimers, sleep, type Timers } from "../timers";
import { JOB_PHASE } from "../protocol";

/** What lib/builds/builders/simulate.ts produces (the agent never imports the console's code). */
export const SIMULATED_ARTIFACT_FORMAT = "splicer-simulated-livepatch/1";

export type SimulatedFailure = "refused" | "stall";

export interface SimulatedBehavior {
  /** How long an apply or revert takes (ms). 0: at once, without any timer. */
  applyMs: number;
  /** Chance (0..1) that an apply fails. */
  failureRate: number;
  /** Every apply fails this way ("this host fails"), whatever failureRate says. null: off. */
  forceFailure: SimulatedFailure | null;
  /** Reverts can fail too (by forceFailure or failureRate). Off by default, so rollbacks work. */
  failReverts: boolean;
}

export const DEFAULT_SIMULATED_BEHAVIOR: SimulatedBehavior = { applyMs: 0, failureRate: 0, forceFailure: null, failReverts: false };

export interface SimulatedOperation {
  kind: "apply" | "revert";
  moduleName: string;
  /** `changed: false` means the kernel already was in the wanted state. */
  outcome: "changed" | "unchanged" | "error";
  at: number;
}

export interface SimulatedKernelOptions {
  hostname?: string;
  machineId?: string;
  kernelRelease?: string;
  kernelVersion?: string;
  distro?: HostFacts["distro"];
  arch?: string;
  cpuCount?: number;
  memoryBytes?: number;
  bootId?: string;
  /** When the pretend kernel booted (ms since epoch); uptime is derived from it. */
  bootedAtMs?: number;
  livepatches?: Livepatch[];
  /** `now` for uptime; timers (when given) also for the simulated apply time. */
  timers?: Pick<Timers, "now"> | Timers;
  behavior?: Partial<SimulatedBehavior>;
  /** Decides failures (failureRate) and their details. */
  random?: () => number;
}

/** Tasks a stalled transition names: the usual suspects on a real host. */
const BLOCKERS = ["postgres", "java", "nginx", "kworker/u16:2", "containerd", "qemu-system-x86", "mysqld", "sshd"];

export class SimulatedKernel implements KernelBackend {
  readonly name = "simulate" as const;
  /** Every apply and revert this kernel was asked to do, oldest first (tests: "applied once"). */
  readonly operations: SimulatedOperation[] = [];
  private readonly facts: Partial<HostFacts>;
  private readonly clock: Pick<Timers, "now">;
  private readonly timers: Timers;
  private readonly random: () => number;
  private behavior: SimulatedBehavior;
  private bootedAtMs: number | undefined;
  private bootId: string | undefined;
  private patches: Livepatch[];

  constructor(opts: SimulatedKernelOptions = {}) {
    const { livepatches, timers, bootedAtMs, bootId, behavior, random, ...facts } = opts;
    // Drop undefined keys so they do not override the real machine's facts.
    this.facts = Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined)) as Partial<HostFacts>;
    this.clock = timers ?? realTimers;
    this.timers = timers && "setTimeout" in timers ? timers : realTimers;
    this.random = random ?? Math.random;
    this.behavior = { ...DEFAULT_SIMULATED_BEHAVIOR };
    this.setBehavior(behavior ?? {});
    this.bootedAtMs = bootedAtMs;
    this.bootId = bootId;
    this.patches = sortPatches(livepatches ?? []);
  }

  inventoryOverrides(): Partial<HostFacts> {
    const out: Partial<HostFacts> = { ...this.facts };
    if (this.bootId !== undefined) out.bootId = this.bootId;
    if (this.bootedAtMs !== undefined) out.uptimeSec = this.uptimeSec();
    return out;
  }

  uptimeSec(): number {
    if (this.bootedAtMs === undefined) return 0;
    return Math.max(0, Math.floor((this.clock.now() - this.bootedAtMs) / 1000));
  }

  async listLivepatches(): Promise<Livepatch[]> {
    return this.patches.map((p) => ({ ...p }));
  }

  /** Test and demo hook: replace the loaded livepatch list. */
  setLivepatches(patches: Livepatch[]): void {
    this.patches = sortPatches(patches);
  }

  /** Change how applies behave from now on (a test making this host fail, the demo's knobs). */
  setBehavior(change: Partial<SimulatedBehavior>): void {
    const next = { ...this.behavior, ...Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)) };
    if (!(next.applyMs >= 0) || !Number.isFinite(next.applyMs)) throw new RangeError("applyMs must be a non-negative number");
    if (!(next.failureRate >= 0 && next.failureRate <= 1)) throw new RangeError("failureRate must be between 0 and 1");
    this.behavior = next;
  }

  getBehavior(): SimulatedBehavior {
    return { ...this.behavior };
  }

  /** Pretend to reboot (into `kernel`, when given): new boot id, uptime from zero, livepatches gone (they live in memory). */
  reboot(kernel?: { kernelRelease: string; kernelVersion?: string }): void {
    if (kernel) Object.assign(this.facts, kernel);
    this.bootId = randomUUID();
    this.bootedAtMs = this.clock.now();
    this.patches = [];
  }

  async apply(opts: ApplyOptions): Promise<KernelChange> {
    const { moduleName } = opts;
    const say = (line: string) => opts.onLog?.(line);
    opts.onPhase?.(JOB_PHASE.applying);
    const ko = `/var/lib/splicer-agent/modules/${moduleName}.ko`;
    const loaded = this.find(moduleName);
    if (loaded?.enabled) {
      say(`livepatch ${moduleName} is already loaded and enabled; not loading it again`);
      return this.record("apply", moduleName, "unchanged");
    }
    const invalid = this.checkArtifact(opts.artifact, moduleName);
    if (invalid) {
      say(invalid);
      this.record("apply", moduleName, "error");
      throw new KernelError(`insmod: ERROR: could not insert module ${ko}: Invalid module format`);
    }
    say(`loading ${ko}: insmod ${ko}`);
    const failure = this.pickFailure();
    await this.spend(this.behavior.applyMs / 2, opts.signal);
    if (opts.signal?.aborted) throw this.timedOut("apply", moduleName);
    if (failure === "refused") {
      this.record("apply", moduleName, "error");
      throw new KernelError(`insmod: ERROR: could not insert module ${ko}: Invalid parameters`);
    }
    if (failure === "stall") throw this.stall("apply", moduleName, say, "the patch was reversed and unloaded");
    this.patches = sortPatches([...this.patches.filter((p) => p.name !== moduleName), { name: moduleName, enabled: true, transition: false }]);
    opts.onPhase?.(JOB_PHASE.verifying);
    await this.spend(this.behavior.applyMs / 2, opts.signal);
    if (opts.signal?.aborted) {
      this.remove(moduleName);
      throw this.timedOut("apply", moduleName);
    }
    say(`livepatch ${moduleName} is enabled and every task has switched to it`);
    return this.record("apply", moduleName, "changed");
  }

  async revert(opts: RevertOptions): Promise<KernelChange> {
    const { moduleName } = opts;
    const say = (line: string) => opts.onLog?.(line);
    opts.onPhase?.(JOB_PHASE.applying);
    if (!this.find(moduleName)) {
      say(`livepatch ${moduleName} is not loaded; nothing to revert`);
      return this.record("revert", moduleName, "unchanged");
    }
    say(`disabling livepatch ${moduleName}`);
    const failure = this.behavior.failReverts ? this.pickFailure() : null;
    await this.spend(this.behavior.applyMs / 2, opts.signal);
    if (opts.signal?.aborted) throw this.timedOut("revert", moduleName);
    if (failure) throw this.stall("revert", moduleName, say, "the patch was re-enabled and stays applied");
    this.remove(moduleName);
    opts.onPhase?.(JOB_PHASE.verifying);
    say(`unloading: rmmod ${moduleName}`);
    // Already disabled: finish the unload even past the deadline rather than report a half-revert.
    await this.spend(this.behavior.applyMs / 2);
    say(`livepatch ${moduleName} is disabled and unloaded`);
    return this.record("revert", moduleName, "changed");
  }

  /** Why the artifact is not a simulated livepatch for this kernel, or null when it is. */
  private checkArtifact(bytes: Uint8Array, moduleName: string): string | null {
    let doc: { format?: unknown; moduleName?: unknown; kernelRelease?: unknown };
    try {
      doc = JSON.parse(Buffer.from(bytes).toString("utf8")) as typeof doc;
    } catch {
      return "the artifact is not a simulated livepatch (not JSON); the simulate backend loads only the simulate builder's artifacts";
    }
    if (typeof doc !== "object" || doc === null || doc.format !== SIMULATED_ARTIFACT_FORMAT) {
      return `the artifact's format is ${JSON.stringify(doc?.format)}, expected ${SIMULATED_ARTIFACT_FORMAT}`;
    }
    if (doc.moduleName !== moduleName) return `the artifact is module ${JSON.stringify(doc.moduleName)}, not ${moduleName}`;
    const release = this.facts.kernelRelease;
    if (release !== undefined && doc.kernelRelease !== release) {
      return `${moduleName}: disagrees about version of symbol module_layout (built for ${String(doc.kernelRelease)}, running ${release})`;
    }
    return null;
  }

  private pickFailure(): SimulatedFailure | null {
    if (this.behavior.forceFailure) return this.behavior.forceFailure;
    if (this.behavior.failureRate > 0 && this.random() < this.behavior.failureRate) return this.random() < 0.5 ? "refused" : "stall";
    return null;
  }

  private stall(kind: SimulatedOperation["kind"], moduleName: string, say: (line: string) => void, after: string): KernelError {
    const task = { pid: 1000 + Math.floor(this.random() * 30_000), comm: BLOCKERS[Math.floor(this.random() * BLOCKERS.length)] ?? "postgres" };
    say(`transition ${kind === "apply" ? "to" : "away from"} livepatch ${moduleName} stalled; blocked by ${task.pid} (${task.comm})`);
    this.record(kind, moduleName, "error");
    return new KernelError(`the livepatch ${moduleName} transition was blocked by task ${task.pid} (${task.comm}); ${after}`, { blockingTasks: [task] });
  }

  /** Simulated work: nothing (not even a timer) at 0 ms, so thousands of agents stay cheap. */
  private async spend(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms > 0) await sleep(this.timers, ms, signal);
  }

  /** The job's deadline passed mid-way: the kernel was put back, the operation failed as timed out. */
  private timedOut(kind: SimulatedOperation["kind"], moduleName: string): KernelError {
    this.record(kind, moduleName, "error");
    return new KernelError(`the livepatch ${moduleName} transition did not finish in time; the kernel was left as it was`, { timedOut: true });
  }

  private find(name: string): Livepatch | undefined {
    return this.patches.find((p) => p.name === name);
  }

  private remove(name: string): void {
    this.patches = this.patches.filter((p) => p.name !== name);
  }

  private record(kind: SimulatedOperation["kind"], moduleName: string, outcome: SimulatedOperation["outcome"]): KernelChange {
    this.operations.push({ kind, moduleName, outcome, at: this.clock.now() });
    return { changed: outcome === "changed" };
  }
}

function sortPatches(patches: Livepatch[]): Livepatch[] {
  return [...patches].map((p) => ({ ...p })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
