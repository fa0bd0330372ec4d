// A minimal stand-in for the console's agent side, for the agent's own tests and measurements:
// the enroll endpoint and the /agent namespace, validating with the real protocol schemas.
import { createHash, createPublicKey, randomBytes, randomUUID, sign, type KeyObject } from "node:crypto";
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Server, type Socket } from "socket.io";
import {
  AGENT_NAMESPACE,
  ARTIFACT_HEADERS,
  AgentAuthSchema,
  artifactSignaturePayload,
  CONNECT_ERRORS,
  EnrollRequestSchema,
  HeartbeatSchema,
  InventorySchema,
  JobUpdateSchema,
  PROTOCOL_VERSION,
  type Job,
  type Ack,
  type JobAck,
  type JobUpdate,
  type AgentToConsoleEvents,
  type ConsoleToAgentEvents,
  type EnrollRequest,
  type Inventory,
} from "../../../agent/protocol";
import { eventually } from "../../helpers/wait";

export interface FakeHost {
  hostId: string;
  credential: string;
  machineId: string;
  hostname: string;
  revoked: boolean;
  inventories: Inventory[];
  heartbeats: { at: number; uptimeSec: number }[];
  connects: number;
  /** Every job_update received (valid ones), in arrival order. */
  jobUpdates: JobUpdate[];
}

type AgentServerSocket = Socket<AgentToConsoleEvents, ConsoleToAgentEvents>;

export interface FakeConsoleOptions {
  tokens?: string[];
  heartbeatIntervalSec?: number;
  port?: number;
  /** Sent at enrollment as the console's artifact-signing key (PEM). */
  consolePublicKey?: string;
  /** Signs artifacts added with addArtifact; its public key is sent at enrollment. */
  signingKey?: KeyObject;
}

export class FakeConsole {
  readonly hosts = new Map<string, FakeHost>();
  readonly tokens: Set<string>;
  heartbeatIntervalSec: number;
  /** Every valid enroll request's body, in arrival order. */
  readonly enrollBodies: EnrollRequest[] = [];
  /** Answer the next N enroll requests with 503. */
  failEnrollments = 0;
  /** While false, job updates are received but not acknowledged (the agent must resend). */
  /** true: ack every job update; false: never answer; an Ack: answer with it. */
  ackJobUpdates: boolean | Ack = true;
  consolePublicKey: string | undefined;
  private readonly signingKey: KeyObject | undefined;
  private readonly artifacts = new Map<string, { bytes: Buffer; headers: Record<string, string> }>();
  /** Artifact downloads served: build ids in order. */
  readonly downloads: string[] = [];
  enrollRequests = 0;
  connectErrors: string[] = [];
  private http: HttpServer | null = null;
  private io: Server | null = null;
  private readonly sockets = new Map<string, AgentServerSocket>();
  port = 0;

  constructor(opts: FakeConsoleOptions = {}) {
    this.tokens = new Set(opts.tokens ?? ["test-enroll-token"]);
    this.heartbeatIntervalSec = opts.heartbeatIntervalSec ?? 30;
    this.port = opts.port ?? 0;
    this.signingKey = opts.signingKey;
    this.consolePublicKey = opts.consolePublicKey ?? (opts.signingKey && createPublicKey(opts.signingKey).export({ type: "spki", format: "pem" }).toString());
  }

  /** Serves `bytes` as build `buildId`, signed (needs `signingKey`) like the real console. */
  addArtifact(buildId: string, a: { bytes: Buffer; patchId: string; kernelRelease: string; moduleName: string }): void {
    if (!this.signingKey) throw new Error("FakeConsole needs a signingKey to serve artifacts");
    const fields = { artifactSha256: createHash("sha256").update(a.bytes).digest("hex"), patchId: a.patchId, kernelRelease: a.kernelRelease, moduleName: a.moduleName };
    this.artifacts.set(buildId, {
      bytes: a.bytes,
      headers: {
        [ARTIFACT_HEADERS.sha256]: fields.artifactSha256,
        [ARTIFACT_HEADERS.signature]: sign(null, Buffer.from(artifactSignaturePayload(fields)), this.signingKey).toString("base64"),
        [ARTIFACT_HEADERS.patchId]: fields.patchId,
        [ARTIFACT_HEADERS.kernelRelease]: fields.kernelRelease,
        [ARTIFACT_HEADERS.moduleName]: fields.moduleName,
      },
    });
  }

  /** Sends a job to a connected host; resolves with the agent's ack. */
  async sendJob(hostId: string, job: Job | Record<string, unknown>, timeoutMs = 5000): Promise<JobAck> {
    const socket = this.sockets.get(hostId);
    if (!socket) throw new Error(`host ${hostId} is not connected`);
    return socket.timeout(timeoutMs).emitWithAck("job", job as Job);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  connectedCount(): number {
    return this.sockets.size;
  }

  async start(): Promise<this> {
    const http = createServer((req, res) => void this.handleHttp(req, res));
    const io = new Server(http, { transports: ["websocket"], serveClient: false });
    const nsp = io.of(AGENT_NAMESPACE);
    nsp.use((socket, next) => {
      const auth = AgentAuthSchema.safeParse(socket.handshake.auth);
      const fail = (msg: string) => {
        this.connectErrors.push(msg);
        next(new Error(msg));
      };
      if (!auth.success) {
        return fail(socket.handshake.auth?.protocol !== PROTOCOL_VERSION ? CONNECT_ERRORS.protocol : CONNECT_ERRORS.badAuth);
      }
      const host = this.hosts.get(auth.data.hostId);
      if (!host || host.credential !== auth.data.credential) return fail(CONNECT_ERRORS.badAuth);
      if (host.revoked) return fail(CONNECT_ERRORS.revoked);
      socket.data.hostId = host.hostId;
      next();
    });
    nsp.on("connection", (socket: AgentServerSocket) => {
      const host = this.hosts.get(socket.data.hostId as string)!;
      host.connects++;
      this.sockets.set(host.hostId, socket);
      socket.on("disconnect", () => {
        if (this.sockets.get(host.hostId) === socket) this.sockets.delete(host.hostId);
      });
      socket.on("inventory", (inv, ack) => {
        const parsed = InventorySchema.safeParse(inv);
        if (!parsed.success) return ack?.({ ok: false, error: parsed.error.message });
        host.inventories.push(parsed.data);
        ack?.({ ok: true });
      });
      socket.on("heartbeat", (hb, ack) => {
        const parsed = HeartbeatSchema.safeParse(hb);
        if (!parsed.success) return ack?.({ ok: false, error: parsed.error.message });
        host.heartbeats.push({ at: Date.now(), uptimeSec: parsed.data.uptimeSec });
        ack?.({ ok: true });
      });
      socket.on("job_update", (u, ack) => {
        const parsed = JobUpdateSchema.safeParse(u);
        if (!parsed.success) return ack?.({ ok: false, error: parsed.error.message });
        host.jobUpdates.push(parsed.data);
        if (this.ackJobUpdates === true) ack?.({ ok: true });
        else if (this.ackJobUpdates) ack?.(this.ackJobUpdates);
      });
      socket.emit("config", { heartbeatIntervalSec: this.heartbeatIntervalSec });
    });
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (http.address() as AddressInfo).port;
    this.http = http;
    this.io = io;
    return this;
  }

  /** Stops listening and drops every connection (a console restart or crash). */
  async stop(): Promise<void> {
    const io = this.io;
    this.io = null;
    this.http = null;
    this.sockets.clear();
    if (io) await new Promise<void>((resolve) => io.close(() => resolve()));
  }

  revoke(hostId: string, reason = "decommissioned"): void {
    const host = this.hosts.get(hostId);
    if (host) host.revoked = true;
    const socket = this.sockets.get(hostId);
    socket?.emit("revoked", { reason });
    socket?.disconnect(true);
  }

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const artifact = req.method === "GET" ? /^\/api\/v1\/agent\/artifacts\/([^/?]+)$/.exec(req.url ?? "") : null;
    if (artifact) {
      const a = this.artifacts.get(artifact[1]!);
      if (!a) return send(404, { error: { code: "not_found", message: "no such build" } });
      this.downloads.push(artifact[1]!);
      res.writeHead(200, { "content-type": "application/octet-stream", ...a.headers });
      res.end(a.bytes);
      return;
    }
    if (req.method !== "POST" || req.url !== "/api/v1/agent/enroll") return send(404, { error: { code: "not_found", message: "not found" } });
    this.enrollRequests++;
    let text = "";
    for await (const chunk of req) text += chunk;
    if (this.failEnrollments > 0) {
      this.failEnrollments--;
      return send(503, { error: { code: "unavailable", message: "console starting" } });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return send(400, { error: { code: "bad_json", message: "body is not JSON" } });
    }
    const parsed = EnrollRequestSchema.safeParse(json);
    if (!parsed.success) return send(400, { error: { code: "invalid_request", message: parsed.error.message } });
    this.enrollBodies.push(parsed.data);
    const prev = parsed.data.previous;
    const proven = prev ? this.hosts.get(prev.hostId) : undefined;
    if (prev && proven && proven.credential === prev.credential) {
      if (proven.revoked) return send(403, { error: { code: "enrollment_refused", message: `host ${proven.hostname} is revoked` } });
      proven.credential = randomBytes(32).toString("base64url");
      return send(200, { hostId: proven.hostId, credential: proven.credential, consolePublicKey: this.consolePublicKey });
    }
    if (parsed.data.enrollmentToken === undefined || !this.tokens.has(parsed.data.enrollmentToken)) {
      return send(401, { error: { code: "invalid_token", message: "enrollment token is invalid or expired" } });
    }
    const host: FakeHost = {
      hostId: randomUUID(),
      credential: randomBytes(32).toString("base64url"),
      machineId: parsed.data.machineId,
      hostname: parsed.data.hostname,
      revoked: false,
      inventories: [],
      heartbeats: [],
      connects: 0,
      jobUpdates: [],
    };
    this.hosts.set(host.hostId, host);
    send(200, { hostId: host.hostId, credential: host.credential, ...(this.consolePublicKey && { consolePublicKey: this.consolePublicKey }) });
  }
}

/** Polls `cond` until it holds or `timeoutMs` passes (test/helpers/wait.ts, polled every 10 ms). */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  await eventually(async () => cond(), { timeoutMs, intervalMs: 10, what });
}
