// The agent: enroll (once) → connect → report inventory and heartbeats, until stopped or revoked.
// Every dependency is passed in so the CLI, the tests and the fleet simulator run the same code.
import { EventEmitter } from "node:events";
import { CONNECT_ERRORS, PROTOCOL_VERSION, type Ack, type AgentConfig, type Inventory, type JobUpdate } from "./protocol";
import { fetchArtifact, type FetchedArtifact } from "./artifact-fetch";
import { Backoff, type BackoffOptions } from "./backoff";
import { AgentConnection, type AgentSocket, type IoFactory } from "./connection";
import { Enroller, EnrollmentAbortedError, EnrollmentRejectedError } from "./enrollment";
import { sameInventory, type InventoryCollector } from "./inventory";
import { JobRunner, type ArtifactRequest } from "./jobs/runner";
import { MemoryJobStore, jobUpdateOf, type JobStore } from "./jobs/store";
import type { Gate } from "./limit";
import { errorMessage, silentLogger, type Logger } from "./log";
import { MemoryRefusalCounter, type CredentialStore, type RefusalCounter, type StoredCredential } from "./state";
import { realTimers, sleep, type TimerHandle, type Timers } from "./timers";
import type { KeptPatchStore } from "./boot/kept-patches";

/** Process exit codes of the agent CLI. */
export const EXIT = {
  ok: 0,
  /** Enrollment refused (bad/used/expired token) or unreadable state. */
  failed: 1,
  /** Bad configuration (includes: no credential and no enrollment token). */
  config: 2,
  /** The console revoked this host; the credential was kept aside (see CredentialStore.setAside). */
  revoked: 3,
  /** The console refused the credential as invalid; it was kept aside. */
  credentialRefused: 4,
} as const;

/**
 * How long a (re)started agent waits before asking the console again after `n` consecutive
 * refusals: 10 s, 20 s, 40 s, … up to an hour, the upper half jittered. Added to systemd's RestartSec.
 */
export function refusalDelayMs(n: number, random: () => number = Math.random): number {
  if (n <= 0) return 0;
  const ceiling = Math.min(3_600_000, 10_000 * 2 ** Math.min(n - 1, 20));
  return Math.floor(ceiling / 2 + random() * (ceiling / 2));
}

export interface AgentExit {
  code: number;
  reason: string;
}

export type AgentState = "idle" | "enrolling" | "connecting" | "connected" | "stopped";

export interface AgentEvents {
  enrolled: [cred: StoredCredential];
  connected: [];
  disconnected: [reason: string];
  config: [cfg: AgentConfig];
  inventory: [inv: Inventory];
  heartbeat: [uptimeSec: number];
  /** A job changed phase (or was accepted or refused). */
  job: [update: JobUpdate];
  revoked: [reason: string];
  stopped: [exit: AgentExit];
}

export interface AgentOptions {
  server: string;
  /** One-time token; only needed when the store holds no credential. */
  enrollToken?: string;
  credentials: CredentialStore;
  /** Consecutive refusals, for the backoff across restarts. Default: in memory. */
  refusals?: RefusalCounter;
  inventory: InventoryCollector;
  log?: Logger;
  timers?: Timers;
  /** Overrides the heartbeat interval the console sends. */
  heartbeatSecOverride?: number;
  /** Heartbeat interval until the console's `config` arrives. */
  defaultHeartbeatSec?: number;
  /** How often inventory is re-collected (sent only when it changed). 0 disables polling. */
  inventoryIntervalMs?: number;
  ackTimeoutMs?: number;
  backoff?: BackoffOptions;
  initialDelayMaxMs?: number;
  stableAfterMs?: number;
  connectTimeoutMs?: number;
  random?: () => number;
  fetch?: typeof fetch;
  io?: IoFactory;
  /** Shared limit on handshakes in flight (fleet simulator). */
  connectGate?: Gate;
  /** Where jobs are recorded. Default: in memory; the CLI keeps them in the state directory. */
  jobStore?: JobStore;
  /** While connected, a job update the console did not acknowledge is sent again after this long. */
  jobResendMs?: number;
  /** Where applied patches are kept to load again after a reboot (agent/boot/). Default: none kept. */
  kept?: KeptPatchStore;
}

export class Agent extends EventEmitter<AgentEvents> {
  private readonly opts: AgentOptions;
  private readonly log: Logger;
  private readonly timers: Timers;
  private readonly refusals: RefusalCounter;
  private readonly abort = new AbortController();
  private connection: AgentConnection | null = null;
  private heartbeatTimer: TimerHandle | null = null;
  private inventoryTimer: TimerHandle | null = null;
  private heartbeatSec: number;
  private lastSent: Inventory | null = null;
  private inventoryBusy = false;
  private inventoryAgain = false;
  private inventoryAgainForced = false;
  private cred: StoredCredential | null = null;
  private _state: AgentState = "idle";
  private exit: AgentExit | null = null;
  /** Runs the console's jobs through the inventory's kernel backend. */
  readonly jobs: JobRunner;
  private resolveDone!: (e: AgentExit) => void;
  /** Resolves when the agent stops for good: stop(), revocation, or a fatal error. */
  readonly done: Promise<AgentExit>;

  constructor(opts: AgentOptions) {
    super();
    this.opts = opts;
    this.log = opts.log ?? silentLogger;
    this.timers = opts.timers ?? realTimers;
    this.refusals = opts.refusals ?? new MemoryRefusalCounter();
    this.heartbeatSec = opts.heartbeatSecOverride ?? opts.defaultHeartbeatSec ?? 30;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.jobs = new JobRunner({
      store: opts.jobStore ?? new MemoryJobStore(),
      backend: opts.inventory.backend,
      fetchArtifact: (req) => this.fetchJobArtifact(req),
      kernelRelease: () => opts.inventory.kernelRelease(),
      send: (update) => this.sendJobUpdate(update),
      onChange: (rec) => {
        if (this.listenerCount("job") > 0) this.emit("job", jobUpdateOf(rec));
      },
      // The console learns the new livepatch list from the inventory, not from the job.
      onFinished: () => void this.refreshInventory(true),
      onApplied: async (a) => {
        if (!opts.kept) return;
        const boot = await opts.inventory.bootFacts();
        await opts.kept.keep({ ...a, kernelVersion: boot.kernelVersion, bootId: boot.bootId });
      },
      onReverted: async (moduleName) => opts.kept?.forget(moduleName),
      timers: this.timers,
      log: this.log,
      resendMs: opts.jobResendMs,
    });
  }

  get state(): AgentState {
    return this._state;
  }

  get hostId(): string | undefined {
    return this.cred?.hostId;
  }

  get connected(): boolean {
    return this._state === "connected";
  }

  /** Successful connects since start. */
  get connects(): number {
    return this.connection?.connects ?? 0;
  }

  get exitStatus(): AgentExit | null {
    return this.exit;
  }

  /**
   * Enrolls if needed and starts connecting. Resolves once the connection loop runs (or the agent
   * has stopped: see `done` for why). Never rejects.
   */
  async start(): Promise<void> {
    if (this._state !== "idle") return;
    this._state = "enrolling";
    try {
      const cred = await this.obtainCredential();
      if (!cred) return;
      this.cred = cred;
      // Before connecting: a repeated job must be recognised, and a crash-interrupted one resumed.
      await this.jobs.start();
      this.connect(cred);
    } catch (err) {
      this.finish(EXIT.failed, errorMessage(err));
    }
  }

  async stop(): Promise<void> {
    this.finish(EXIT.ok, "stopped");
    await this.done;
  }

  /** Re-collects inventory now and sends it if it changed (or always, with `force`). */
  async refreshInventory(force = false): Promise<void> {
    if (this.inventoryBusy) {
      // Coalesce: one more pass after the current one, so a change is never missed.
      this.inventoryAgain = true;
      this.inventoryAgainForced ||= force;
      return;
    }
    this.inventoryBusy = true;
    try {
      do {
        this.inventoryAgain = false;
        await this.sendInventoryIfChanged(force);
        force = this.inventoryAgainForced;
        this.inventoryAgainForced = false;
      } while (this.inventoryAgain);
    } finally {
      this.inventoryBusy = false;
    }
  }

  private async obtainCredential(): Promise<StoredCredential | null> {
    const { server, enrollToken, credentials } = this.opts;
    let cred = await credentials.load();
    // A credential issued under another console URL: the same console moved (a new port or name)
    // still knows it, so it is presented as proof beside the token; another console ignores it.
    let otherUrl: StoredCredential | null = null;
    if (cred && cred.server !== server) {
      if (enrollToken) {
        this.log.warn("stored credential is for another console URL; enrolling with the given token, presenting it", { storedServer: cred.server });
        otherUrl = cred;
        cred = null;
      } else {
        this.log.warn("stored credential was issued by another console URL; using it anyway", { storedServer: cred.server });
      }
    }
    if (cred) return cred;
    // A credential the console refused earlier is the only proof that this is that host (after an
    // admin's restore or merge): present it; the machine id alone proves nothing.
    let previous = await credentials.loadSetAside().catch((err: unknown) => {
      this.log.warn("could not read the kept-aside credentials", { error: errorMessage(err) });
      return null;
    });
    if (previous && previous.server !== server) previous = null;
    previous ??= otherUrl;
    if (!enrollToken && !previous) {
      this.finish(EXIT.config, "no credential in the state directory and no enrollment token given (--enroll-token or SPLICER_ENROLL_TOKEN)");
      return null;
    }
    const refused = await this.refusals.count();
    if (refused > 0) {
      const wait = refusalDelayMs(refused, this.opts.random);
      this.log.info("the console refused this agent before; waiting before asking again", { refusals: refused, waitMs: wait });
      await sleep(this.timers, wait, this.abort.signal).catch(() => undefined);
      if (this.abort.signal.aborted) return null;
    }
    const inv = await this.opts.inventory.collect();
    const enroller = new Enroller({
      server,
      fetch: this.opts.fetch,
      timers: this.timers,
      log: this.log,
      backoff: new Backoff({ ...this.opts.backoff, random: this.opts.random }),
    });
    try {
      this.log.info("enrolling", { hostname: inv.hostname, machineId: inv.machineId, presentingHostId: previous?.hostId });
      const res = await enroller.enroll(
        {
          ...(enrollToken ? { enrollmentToken: enrollToken } : {}),
          hostname: inv.hostname,
          machineId: inv.machineId,
          ...(previous ? { previous: { hostId: previous.hostId, credential: previous.credential } } : {}),
        },
        this.abort.signal,
      );
      const stored: StoredCredential = { ...res, server, enrolledAt: new Date(this.timers.now()).toISOString() };
      await credentials.save(stored);
      this.log.info("enrolled", { hostId: res.hostId });
      this.emit("enrolled", stored);
      return stored;
    } catch (err) {
      if (err instanceof EnrollmentAbortedError) return null;
      if (err instanceof EnrollmentRejectedError) {
        await this.refusals.record().catch(() => undefined);
        this.finish(EXIT.failed, `enrollment refused by the console (${err.status} ${err.code}): ${err.message}`);
        return null;
      }
      throw err;
    }
  }

  private connect(cred: StoredCredential): void {
    if (this._state === "stopped") return;
    this._state = "connecting";
    this.connection = new AgentConnection({
      server: this.opts.server,
      auth: { hostId: cred.hostId, credential: cred.credential, protocol: PROTOCOL_VERSION },
      log: this.log,
      timers: this.timers,
      backoff: new Backoff({ ...this.opts.backoff, random: this.opts.random }),
      io: this.opts.io,
      initialDelayMaxMs: this.opts.initialDelayMaxMs,
      random: this.opts.random,
      stableAfterMs: this.opts.stableAfterMs,
      connectTimeoutMs: this.opts.connectTimeoutMs,
      gate: this.opts.connectGate,
      handlers: {
        onConnect: (socket) => this.onConnect(socket),
        onDisconnect: (reason) => this.onDisconnect(reason),
        onConfig: (cfg) => this.onConfig(cfg),
        onRevoked: (reason) => void this.onRevoked(reason),
        onJob: (job) => this.jobs.handle(job),
      },
    });
    this.connection.start();
  }

  private onConnect(_socket: AgentSocket): void {
    this._state = "connected";
    void this.refusals.reset().catch(() => undefined);
    this.emit("connected");
    // The console may have lost what we told it (restart, failover): always send a full inventory.
    this.lastSent = null;
    void this.refreshInventory(true);
    this.startHeartbeat();
    this.jobs.connected();
    const every = this.opts.inventoryIntervalMs ?? 10_000;
    if (every > 0 && this.inventoryTimer === null) {
      this.inventoryTimer = this.timers.setInterval(() => void this.refreshInventory(), every);
    }
  }

  private onDisconnect(reason: string): void {
    this.stopTimers();
    this.jobs.disconnected();
    if (this._state === "connected") this._state = "connecting";
    this.emit("disconnected", reason);
  }

  private onConfig(cfg: AgentConfig): void {
    this.emit("config", cfg);
    if (cfg.reloadAtBoot !== undefined && this.opts.kept) {
      // Kept for the next boot, when the console may be out of reach.
      this.opts.kept.setReloadEnabled(cfg.reloadAtBoot).catch((err) => this.log.warn("could not keep the reload-at-boot setting", { error: errorMessage(err) }));
    }
    if (this.opts.heartbeatSecOverride !== undefined) return;
    if (cfg.heartbeatIntervalSec !== this.heartbeatSec || this.heartbeatTimer === null) {
      this.heartbeatSec = cfg.heartbeatIntervalSec;
      this.log.debug("heartbeat interval set by console", { heartbeatSec: this.heartbeatSec });
      this.startHeartbeat();
    }
  }

  /**
   * The console revoked this host or refused its credential. The credential is kept aside, never
   * deleted: after an admin restores the host (or merges it), the agent proves itself with it at
   * its next enrollment and gets the same host back. systemd restarts the agent; the refusal count
   * makes each restart wait longer.
   */
  private async onRevoked(reason: string): Promise<void> {
    const invalid = reason === CONNECT_ERRORS.badAuth;
    this.emit("revoked", reason);
    let keptAt: string | null = null;
    try {
      keptAt = await this.opts.credentials.setAside();
    } catch (err) {
      this.log.error("could not set the refused credential aside", { error: errorMessage(err) });
    }
    await this.refusals.record().catch(() => undefined);
    this.log.error(
      invalid
        ? "the console refused this agent's credential; it is kept aside and presented at the next enrollment"
        : "the console revoked this host; the credential is kept aside: once an admin restores the host, the agent gets back in with it",
      { reason, keptAt },
    );
    this.finish(invalid ? EXIT.credentialRefused : EXIT.revoked, invalid ? `credential refused by the console: ${reason}` : `revoked by the console: ${reason}`);
  }

  private startHeartbeat(): void {
    if (this.heartbeatTimer !== null) this.timers.clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = this.timers.setInterval(() => void this.sendHeartbeat(), this.heartbeatSec * 1000);
  }

  private async sendHeartbeat(): Promise<void> {
    const socket = this.connection?.socket;
    if (!socket) return;
    try {
      const uptimeSec = await this.opts.inventory.uptimeSec();
      this.emit("heartbeat", uptimeSec);
      const ack = await socket.timeout(this.opts.ackTimeoutMs ?? 10_000).emitWithAck("heartbeat", { uptimeSec });
      if (!ack.ok) this.log.warn("console refused heartbeat", { error: ack.error });
    } catch {
      // No ack in time: the next heartbeat will do; a dead link shows up as a disconnect.
    }
  }

  private async sendInventoryIfChanged(force: boolean): Promise<void> {
    const socket = this.connection?.socket;
    if (!socket) return;
    let inv: Inventory;
    try {
      inv = await this.opts.inventory.collect();
    } catch (err) {
      this.log.error("could not collect inventory", { error: errorMessage(err) });
      return;
    }
    if (!force && this.lastSent && sameInventory(inv, this.lastSent)) return;
    let ack: Ack;
    try {
      ack = await socket.timeout(this.opts.ackTimeoutMs ?? 10_000).emitWithAck("inventory", inv);
    } catch {
      // Not acknowledged: leave lastSent alone so the next poll sends it again.
      this.log.warn("inventory not acknowledged in time; will resend");
      return;
    }
    // Not stored this time (the console's database failed): the next poll sends it again.
    if (!ack.ok && ack.retry) {
      this.log.warn("console could not store the inventory; will resend", { error: ack.error });
      return;
    }
    // A refused inventory is remembered too, so it is not resent every poll until something changes.
    this.lastSent = inv;
    if (!ack.ok) this.log.warn("console refused inventory", { error: ack.error });
    else this.emit("inventory", inv);
  }

  private async sendJobUpdate(update: JobUpdate): Promise<boolean> {
    const socket = this.connection?.socket;
    if (!socket) return false;
    let ack: Ack;
    try {
      ack = await socket.timeout(this.opts.ackTimeoutMs ?? 10_000).emitWithAck("job_update", update);
    } catch {
      return false;
    }
    if (!ack.ok && ack.retry) {
      // The console could not store it (its database failed): not delivered, send it again later.
      this.log.warn("console could not store a job update; will resend", { jobId: update.jobId, phase: update.phase, error: ack.error });
      return false;
    }
    // Refused: the same update would be refused again; resending it would only loop.
    if (!ack.ok) this.log.warn("console refused a job update", { jobId: update.jobId, phase: update.phase, error: ack.error });
    return true;
  }

  private async fetchJobArtifact(req: ArtifactRequest): Promise<FetchedArtifact> {
    const cred = this.cred;
    if (!cred) return { ok: false, reason: "the agent is not enrolled" };
    if (!cred.consolePublicKey) {
      return {
        ok: false,
        reason:
          "this agent has no pinned console signing key (it enrolled before the console signed artifacts), so it cannot verify the patch; " +
          "re-enroll the host: delete credential.json in the agent's state directory and start the agent with a new enrollment token",
      };
    }
    return fetchArtifact({
      server: this.opts.server,
      hostId: cred.hostId,
      credential: cred.credential,
      buildId: req.buildId,
      consolePublicKey: cred.consolePublicKey,
      kernelRelease: req.kernelRelease,
      fetch: this.opts.fetch,
      signal: req.signal,
    });
  }

  private stopTimers(): void {
    if (this.heartbeatTimer !== null) this.timers.clearInterval(this.heartbeatTimer);
    if (this.inventoryTimer !== null) this.timers.clearInterval(this.inventoryTimer);
    this.heartbeatTimer = this.inventoryTimer = null;
  }

  private finish(code: number, reason: string): void {
    if (this.exit) return;
    this.exit = { code, reason };
    this._state = "stopped";
    this.abort.abort();
    this.jobs.stop();
    this.connection?.stop();
    this.stopTimers();
    if (code === EXIT.ok) this.log.info("agent stopped", { reason });
    else this.log.error(reason, { exitCode: code });
    this.emit("stopped", this.exit);
    this.resolveDone(this.exit);
  }
}
