// An in-memory kernel for the demo fleet and tests: the kernel release, boot id, distro and
// loaded livepatches are whatever it was constructed with. Unset facts fall through to the real
// machine's, so `--backend simulate` on a workstation reports its real hostname.
import { randomUUID } from "node:crypto";
import type { HostFacts, KernelBackend, Livepatch } from "./types";
import { realTimers, type Timers } from "../timers";

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
  timers?: Pick<Timers, "now">;
}

export class SimulatedKernel implements KernelBackend {
  readonly name = "simulate" as const;
  private readonly facts: Partial<HostFacts>;
  private readonly clock: Pick<Timers, "now">;
  private bootedAtMs: number | undefined;
  private bootId: string | undefined;
  private patches: Livepatch[];

  constructor(opts: SimulatedKernelOptions = {}) {
    const { livepatches, timers, bootedAtMs, bootId, ...facts } = opts;
    // Drop undefined keys so they do not override the real machine's facts.
    this.facts = Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined)) as Partial<HostFacts>;
    this.clock = timers ?? realTimers;
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

  /** Pretend to reboot: new boot id, uptime from zero, livepatches gone (they live in memory). */
  reboot(): void {
    this.bootId = randomUUID();
    this.bootedAtMs = this.clock.now();
    this.patches = [];
  }
}

function sortPatches(patches: Livepatch[]): Livepatch[] {
  return [...patches].map((p) => ({ ...p })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
