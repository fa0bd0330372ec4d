// The socket.io connection to the console's /agent namespace. socket.io-client's own reconnection
// is off: it retries on a fixed schedule and cannot tell "console down" (retry forever) from
// "credential refused" (stop). This class reconnects with full-jitter backoff and gives up only
// when the console says the host is revoked.
import { io as ioClient, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import {
  AGENT_NAMESPACE,
  AgentConfigSchema,
  CONNECT_ERRORS,
  JobSchema,
  type AgentAuth,
  type AgentConfig,
  type AgentToConsoleEvents,
  type ConsoleToAgentEvents,
  type Job,
  type JobAck,
} from "./protocol";
import { Backoff } from "./backoff";
import type { Gate, Release } from "./limit";
import { silentLogger, type Logger } from "./log";
import { realTimers, type TimerHandle, type Timers } from "./timers";

export type AgentSocket = Socket<ConsoleToAgentEvents, AgentToConsoleEvents>;
export type IoFactory = (url: string, opts: Partial<ManagerOptions & SocketOptions>) => AgentSocket;

export interface ConnectionHandlers {
  onConnect(socket: AgentSocket): void;
  onDisconnect(reason: string): void;
  onConfig(cfg: AgentConfig): void;
  /** Final: the connection has stopped and will not retry. */
  onRevoked(reason: string): void;
  /** A valid job from the console; the answer is its ack. Without a handler jobs are refused. */
  onJob?(job: Job): Promise<JobAck>;
}

export interface ConnectionOptions {
  server: string;
  auth: AgentAuth;
  handlers: ConnectionHandlers;
  log?: Logger;
  timers?: Timers;
  backoff?: Backoff;
  io?: IoFactory;
  /** The first attempt waits a random 0..N ms (spreads a simulated fleet's first connects). */
  initialDelayMaxMs?: number;
  random?: () => number;
  /** A connection that stays up this long resets the backoff. */
  stableAfterMs?: number;
  /** Handshake timeout (socket.io Manager `timeout`). */
  connectTimeoutMs?: number;
  /** Limits handshakes in flight (shared by a simulated fleet). */
  gate?: Gate;
}

const FATAL_CONNECT_ERRORS: ReadonlySet<string> = new Set([CONNECT_ERRORS.revoked, CONNECT_ERRORS.badAuth]);

export function agentNamespaceUrl(server: string): string {
  return server.replace(/\/+$/, "") + AGENT_NAMESPACE;
}

export class AgentConnection {
  private readonly opts: ConnectionOptions;
  private readonly log: Logger;
  private readonly timers: Timers;
  private readonly backoff: Backoff;
  private readonly io: IoFactory;
  private current: AgentSocket | null = null;
  private retryTimer: TimerHandle | null = null;
  private stableTimer: TimerHandle | null = null;
  private releaseGate: Release | null = null;
  private stopped = false;
  private started = false;
  private isConnected = false;
  /** Successful connects since start (for tests and metrics). */
  connects = 0;

  constructor(opts: ConnectionOptions) {
    this.opts = opts;
    this.log = opts.log ?? silentLogger;
    this.timers = opts.timers ?? realTimers;
    this.backoff = opts.backoff ?? new Backoff({ random: opts.random });
    this.io = opts.io ?? ((url, o) => ioClient(url, o) as AgentSocket);
  }

  get connected(): boolean {
    return this.isConnected;
  }

  get socket(): AgentSocket | null {
    return this.isConnected ? this.current : null;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    const max = this.opts.initialDelayMaxMs ?? 0;
    this.schedule(max > 0 ? Math.floor((this.opts.random ?? Math.random)() * max) : 0);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.teardown();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      void this.attempt();
    }, delayMs);
  }

  private retryLater(why: string, fields: Record<string, unknown> = {}): void {
    this.teardown();
    const delay = this.backoff.next();
    this.log.info(why, { ...fields, retryInMs: delay, attempt: this.backoff.attempts });
    this.schedule(delay);
  }

  private async attempt(): Promise<void> {
    if (this.opts.gate) {
      const release = await this.opts.gate.acquire();
      if (this.stopped) return release();
      this.releaseGate = release;
    }
    const socket = this.io(agentNamespaceUrl(this.opts.server), {
      transports: ["websocket"],
      reconnection: false,
      // Every attempt gets its own Manager, so a simulated fleet's sockets never share one.
      forceNew: true,
      autoConnect: false,
      timeout: this.opts.connectTimeoutMs ?? 20_000,
      auth: this.opts.auth,
    });
    this.current = socket;

    socket.on("connect", () => {
      this.freeGate();
      this.isConnected = true;
      this.connects++;
      this.log.info("connected to console");
      this.stableTimer = this.timers.setTimeout(() => {
        this.stableTimer = null;
        this.backoff.reset();
      }, this.opts.stableAfterMs ?? 30_000);
      this.opts.handlers.onConnect(socket);
    });

    socket.on("connect_error", (err: Error) => {
      this.freeGate();
      if (this.stopped) return;
      if (FATAL_CONNECT_ERRORS.has(err.message)) return this.revoke(err.message);
      if (err.message === CONNECT_ERRORS.protocol) {
        // Keep trying: the console may be mid-upgrade. The operator must upgrade the agent otherwise.
        this.log.error("console does not speak this agent's protocol version; upgrade the agent");
      }
      this.retryLater("connection failed", { error: err.message });
    });

    socket.on("disconnect", (reason: string) => {
      const wasConnected = this.isConnected;
      this.isConnected = false;
      if (this.stableTimer !== null) this.timers.clearTimeout(this.stableTimer);
      this.stableTimer = null;
      if (wasConnected) this.opts.handlers.onDisconnect(reason);
      if (this.stopped) return;
      this.retryLater("disconnected from console", { reason });
    });

    socket.on("config", (cfg: unknown) => {
      const parsed = AgentConfigSchema.safeParse(cfg);
      if (!parsed.success) return this.log.warn("ignoring invalid config from console", { error: parsed.error.message });
      this.opts.handlers.onConfig(parsed.data);
    });

    socket.on("protocol_error", (e: { event: string; error: string }) => {
      this.log.warn("console refused a message", { event: e?.event, error: e?.error });
    });

    socket.on("job", (raw: unknown, ack?: (a: JobAck) => void) => {
      const reply = typeof ack === "function" ? ack : () => undefined;
      const parsed = JobSchema.safeParse(raw);
      if (!parsed.success) {
        const error = `invalid job: ${parsed.error.issues.map((i) => `${i.path.join(".") || "job"}: ${i.message}`).join("; ")}`;
        this.log.warn("refusing an invalid job from the console", { error });
        return reply({ ok: false, error });
      }
      const handler = this.opts.handlers.onJob;
      if (!handler) return reply({ ok: false, error: "this agent does not run jobs" });
      handler(parsed.data).then(reply, (err: unknown) => {
        this.log.error("job handler failed", { jobId: parsed.data.jobId, error: err instanceof Error ? err.message : String(err) });
        reply({ ok: false, error: `the agent could not take the job: ${err instanceof Error ? err.message : String(err)}` });
      });
    });

    socket.on("revoked", (e: { reason: string }) => {
      this.revoke(typeof e?.reason === "string" ? e.reason : "revoked");
    });

    socket.connect();
  }

  private revoke(reason: string): void {
    if (this.stopped) return;
    this.stop();
    this.opts.handlers.onRevoked(reason);
  }

  private freeGate(): void {
    const release = this.releaseGate;
    this.releaseGate = null;
    release?.();
  }

  private teardown(): void {
    this.freeGate();
    if (this.stableTimer !== null) this.timers.clearTimeout(this.stableTimer);
    this.stableTimer = null;
    const socket = this.current;
    this.current = null;
    if (!socket) return;
    const wasConnected = this.isConnected;
    this.isConnected = false;
    socket.removeAllListeners();
    socket.disconnect();
    if (wasConnected) this.opts.handlers.onDisconnect("agent stopped");
  }
}
