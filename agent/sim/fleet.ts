// Runs N simulated hosts in one process: the real Agent class with the simulate backend, each
// with its own socket.io connection. Used by `npm run fleet:sim`, the console's demo mode and the
// benchmarks. Cheap enough for thousands of agents: bounded enrollment and handshake concurrency,
// staggered first connects, one credential file for the whole fleet.
import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { z } from "zod";
import { Agent, EXIT } from "../agent";
import type { BackoffOptions } from "../backoff";
import { SimulatedKernel, type SimulatedBehavior } from "../backends/simulate";
import { MemoryJobStore } from "../jobs/store";
import { InventoryCollector } from "../inventory";
import { Semaphore, mapLimit } from "../limit";
import { Logger } from "../log";
import { ensurePrivateDir, writeFileAtomic } from "../durable-file";
import { StoredCredentialSchema, type CredentialStore, type StoredCredential } from "../state";
import { hostProfile, type HostProfile } from "./profiles";
import { MemoryKeptPatches } from "../boot/kept-patches";
import { BootReloader } from "../boot/reload";
import type { ReloadReport } from "../protocol";

export interface FleetOptions {
  server: string;
  enrollToken: string;
  agents: number;
  /** Default: .data/fleet-sim/<hash of server> under the working directory. */
  stateDir?: string;
  /** Same seed → same hosts (hostnames, machine ids, kernels). Default "splicer". */
  seed?: string | number;
  heartbeatSec?: number;
  enrollConcurrency?: number;
  /** Handshakes in flight at once across the fleet. */
  connectConcurrency?: number;
  /** Each agent's first connect waits a random 0..N ms. Default: 2 ms per agent, at most 10 s. */
  connectSpreadMs?: number;
  /** Simulated kernels change only when told to; poll rarely. */
  inventoryIntervalMs?: number;
  backoff?: BackoffOptions;
  /** The agents' own logs (one line per agent per event). Default: silent; the fleet summarises. */
  log?: Logger;
  /** Aborting stops the fleet, also while it is still enrolling (startFleet then rejects). */
  signal?: AbortSignal;
  /** Progress lines ("enrolled n/N", "connected n/N"); default: to stderr. false to silence. */
  progress?: ((line: string) => void) | false;
  /** How long each simulated apply/revert takes (ms). Default 0: no timer at all. */
  applyMs?: number;
  /** Chance (0..1) that an apply fails, per host and job. Default 0. */
  failureRate?: number;
  /** Decides failures; default Math.random. */
  random?: () => number;
  /** While connected, an unacknowledged job update is sent again after this long. */
  jobResendMs?: number;
  /** Every this many seconds one random connected host reboots (the demo's drift and reloads). Default: never. */
  rebootEverySec?: number;
}

export interface SimAgent {
  profile: HostProfile;
  /** The host's pretend kernel: `kernel.setBehavior({ forceFailure: "refused" })` makes this host fail. */
  kernel: SimulatedKernel;
  /** The running agent; a reboot starts a new one. */
  agent: Agent;
  /** Every job this host has seen (in memory, like its kernel). */
  jobs: MemoryJobStore;
  /** The patches its agent keeps to load again at boot (they survive a simulated reboot, as a disk would). */
  kept: MemoryKeptPatches;
  /**
   * Reboots the host into the same kernel: the agent stops, the kernel forgets its livepatches and
   * gets a new boot id, then a new agent loads the kept patches again (as agent/cli.ts does) and
   * connects. Resolves with what the reload did.
   */
  /** Restarts the simulated host (into another kernel, when given), its agent reloading what it kept. */
  reboot(kernel?: { kernelRelease: string; kernelVersion?: string }): Promise<ReloadReport | null>;
}

export interface Fleet {
  agents: SimAgent[];
  connectedCount(): number;
  enrolledCount(): number;
  /** Resolves when at least `n` agents (default all that are running) are connected. */
  waitConnected(n?: number, timeoutMs?: number): Promise<void>;
  /** Changes every host's simulated apply behaviour (apply time, failure rate, forced failure). */
  setBehavior(change: Partial<SimulatedBehavior>): void;
  stop(): Promise<void>;
}

export function defaultFleetStateDir(server: string, cwd = process.cwd()): string {
  return path.join(cwd, ".data", "fleet-sim", createHash("sha256").update(server).digest("hex").slice(0, 12));
}

const FleetFileSchema = z.object({
  version: z.literal(1),
  hosts: z.record(z.string(), StoredCredentialSchema),
});

/**
 * All simulated hosts' credentials in one JSON file, keyed by machine id. Writes are batched:
 * thousands of enrollments make one write, not thousands.
 */
export class FleetCredentialFile {
  readonly file: string;
  private hosts: Record<string, StoredCredential> = {};
  private readonly aside: Record<string, StoredCredential> = {};
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly stateDir: string) {
    this.file = path.join(stateDir, "credentials.json");
  }

  async load(): Promise<void> {
    await ensurePrivateDir(this.stateDir);
    try {
      const parsed = FleetFileSchema.safeParse(JSON.parse(await fs.readFile(this.file, "utf8")));
      if (parsed.success) this.hosts = parsed.data.hosts;
    } catch (err) {
      if ((err as { code?: string }).code !== "ENOENT") throw err;
    }
  }

  get size(): number {
    return Object.keys(this.hosts).length;
  }

  storeFor(machineId: string): CredentialStore {
    return {
      load: async () => this.hosts[machineId] ?? null,
      save: async (cred) => {
        this.hosts[machineId] = cred;
        this.scheduleFlush();
      },
      // Kept in memory only: a simulated host that was refused enrolls anew or proves itself in this run.
      setAside: async () => {
        const cred = this.hosts[machineId];
        if (!cred) return null;
        this.aside[machineId] = cred;
        delete this.hosts[machineId];
        this.scheduleFlush();
        return `aside:${machineId}`;
      },
      loadSetAside: async () => this.aside[machineId] ?? null,
    };
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => void this.flush(), 250);
  }

  async flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const data = JSON.stringify({ version: 1, hosts: this.hosts }) + "\n";
    // Serialise writes so an older snapshot never lands after a newer one.
    this.writing = this.writing.then(() => writeFileAtomic(this.file, data, 0o600));
    await this.writing;
  }
}

export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  const n = opts.agents;
  if (!Number.isInteger(n) || n < 0) throw new RangeError("agents must be a non-negative integer");
  const server = opts.server.replace(/\/+$/, "");
  const seed = String(opts.seed ?? "splicer");
  const log = opts.log ?? new Logger("silent");
  const say = opts.progress === false ? () => undefined : (opts.progress ?? ((l: string) => process.stderr.write(`fleet-sim: ${l}\n`)));
  const store = new FleetCredentialFile(opts.stateDir ?? defaultFleetStateDir(server));
  await store.load();
  const known = store.size;

  const gate = new Semaphore(opts.connectConcurrency ?? 100);
  const spread = opts.connectSpreadMs ?? Math.min(10_000, n * 2);
  const now = Date.now();
  const agents: SimAgent[] = [];
  let enrolled = 0;
  let connected = 0;
  const watch = (agent: Agent, profile: HostProfile) => {
    agent.on("connected", () => connected++);
    agent.on("disconnected", () => connected--);
    // A refused token is reported once by startFleet itself; anything else (revocation) per host.
    agent.on("stopped", (exit) => {
      if (exit.code !== 0 && exit.code !== EXIT.failed) say(`${profile.hostname} stopped: ${exit.reason}`);
    });
  };
  for (let i = 0; i < n; i++) {
    const profile = hostProfile(seed, i, now);
    const { index: _i, livepatches, bootedAtMs, ...facts } = profile;
    const kernel = new SimulatedKernel({
      ...facts,
      bootedAtMs,
      livepatches,
      behavior: { applyMs: opts.applyMs, failureRate: opts.failureRate },
      random: opts.random,
    });
    const jobs = new MemoryJobStore();
    const kept = new MemoryKeptPatches();
    const credentials = store.storeFor(profile.machineId);
    let report: ReloadReport | null = null;
    const newAgent = (initialDelayMaxMs: number) => {
      const agent = new Agent({
        server,
        enrollToken: opts.enrollToken,
        credentials,
        kept,
        inventory: new InventoryCollector({ backend: kernel, host: null, reload: async () => report }),
        log: log.child({ host: profile.hostname }),
        heartbeatSecOverride: opts.heartbeatSec,
        inventoryIntervalMs: opts.inventoryIntervalMs ?? 60_000,
        initialDelayMaxMs,
        backoff: opts.backoff,
        connectGate: gate,
        jobStore: jobs,
        jobResendMs: opts.jobResendMs,
      });
      watch(agent, profile);
      return agent;
    };
    const sim: SimAgent = {
      profile,
      kernel,
      agent: newAgent(spread),
      jobs,
      kept,
      reboot: async (into) => {
        await sim.agent.stop();
        kernel.reboot(into);
        const inventory = new InventoryCollector({ backend: kernel, host: null });
        report = await new BootReloader({
          store: kept,
          backend: kernel,
          boot: () => inventory.bootFacts(),
          consoleKey: async () => (await credentials.load())?.consolePublicKey ?? null,
          log: log.child({ host: profile.hostname }),
        }).run();
        sim.agent = newAgent(0);
        await sim.agent.start();
        return report;
      },
    };
    agents.push(sim);
  }
  const connectedCount = () => connected;

  // Progress: a line when the counts change, at most once a second, one timer for the fleet.
  let last = "";
  const report = () => {
    const line = `enrolled ${enrolled}/${n}, connected ${connected}/${n}`;
    if (line !== last) say(line);
    last = line;
  };
  const progressTimer = setInterval(report, 1000);
  progressTimer.unref();

  say(`starting ${n} agents against ${server} (seed ${seed}, ${known} known credentials in ${store.file})`);
  let refused: string | null = null;
  let stopping: Promise<void> | null = null;
  let rebootTimer: ReturnType<typeof setInterval> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      clearInterval(progressTimer);
      if (rebootTimer) clearInterval(rebootTimer);
      await Promise.all(agents.map(({ agent }) => agent.stop()));
      await store.flush();
    })());
  const onAbort = () => void stop();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  if (opts.signal?.aborted) void stop();

  await mapLimit(agents, opts.enrollConcurrency ?? 50, async ({ agent }) => {
    // One refused token refuses them all: stop knocking. Stopping agents end their enrollment.
    if (refused || stopping) return agent.stop();
    await agent.start();
    const exit = agent.exitStatus;
    if (exit && exit.code !== 0) refused ??= exit.reason;
    else if (!exit) enrolled++;
  });
  opts.signal?.removeEventListener("abort", onAbort);
  if (stopping) {
    await stop();
    throw new Error("fleet stopped before it finished enrolling");
  }
  await store.flush();
  report();

  if (refused && enrolled === 0) {
    await stop();
    throw new Error(`enrollment failed: ${refused}`);
  }

  if (opts.rebootEverySec) {
    let rebooting = false;
    rebootTimer = setInterval(() => {
      const up = agents.filter((a) => a.agent.state === "connected");
      const a = up[Math.floor((opts.random ?? Math.random)() * up.length)];
      if (!a || rebooting || stopping) return;
      rebooting = true;
      a.reboot()
        .then((r) => say(`${a.profile.hostname} rebooted; kept patches: ${r?.patches.map((p) => `${p.moduleName} ${p.outcome}`).join(", ") || "none"}`))
        .catch((err) => say(`${a.profile.hostname} reboot failed: ${(err as Error).message}`))
        .finally(() => (rebooting = false));
    }, opts.rebootEverySec * 1000);
    rebootTimer.unref();
  }

  return {
    agents,
    connectedCount,
    enrolledCount: () => enrolled,
    waitConnected: async (want = agents.filter((a) => a.agent.state !== "stopped").length, timeoutMs = 120_000) => {
      const deadline = Date.now() + timeoutMs;
      while (connected < want) {
        if (Date.now() > deadline) throw new Error(`only ${connected}/${want} agents connected after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
      report();
    },
    setBehavior: (change) => {
      for (const a of agents) a.kernel.setBehavior(change);
    },
    stop,
  };
}
