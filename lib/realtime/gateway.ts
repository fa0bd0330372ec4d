import "server-only";
import type http from "node:http";
import { Server, type Namespace, type Socket } from "socket.io";
import {
  type Ack, AGENT_NAMESPACE, AgentAuthSchema, CONNECT_ERRORS, HeartbeatSchema, InventorySchema, JobUpdateSchema, MAX_MESSAGE_BYTES,
} from "@/agent/protocol";
import { UI_NAMESPACE } from "@/lib/api/schemas";
import { authenticate } from "@/lib/auth/authenticate";
import { stillValid } from "@/lib/auth/sessions";
import {
  authenticateAgent, ingestInventory, markConnected, markDisconnected, markManyDisconnected, recordHeartbeats, sweepSilentHosts,
} from "@/lib/fleet/presence";
import { pruneHostEvents } from "@/lib/fleet/host-events";
import { bumpFleetVersion } from "@/lib/fleet/summary";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics";
import { getSettings } from "@/lib/settings/settings";
import { listenBus, type BusEvent, type BusListener } from "@/lib/db/bus";
import { JobRelay } from "./job-relay";
import { uiOriginAllowed } from "./ui-origin";
import { AGENT_EVENTS, onValidated, RefusedMessage, refuse } from "./validate";
import { env } from "@/lib/config";

export interface Gateway {
  io: Server;
  connectedAgents(): number;
  close(): Promise<void>;
}

const KNOWN_AGENT_EVENTS: ReadonlySet<string> = new Set(AGENT_EVENTS);
const HEARTBEAT_FLUSH_MS = 2000;
const UI_FLUSH_MS = 250;
const SWEEP_MS = 15_000;
// How often live /ui sockets' sessions and tokens are re-validated (see lib/config.ts).
// Settings the gateway reads on every handshake, parsed once when it loads (after the start checked them).
const { SPLICER_UI_RECHECK_MS: UI_RECHECK_MS, SPLICER_TRUST_PROXY: TRUST_PROXY, SPLICER_PUBLIC_URL: PUBLIC_URL } = env();
// Host timeline retention: checked this often, at start and whenever the settings change.
const PRUNE_MS = 10 * 60_000;
// An agent may resend its inventory this often at most (it sends only on change).
const MAX_INVENTORIES_PER_MINUTE = 12;
// A job reports a handful of phases; this leaves room for many jobs and resends, not for a flood.
const MAX_JOB_UPDATES_PER_MINUTE = 600;

function clientIp(socket: Socket): string | null {
  const fwd = TRUST_PROXY ? socket.handshake.headers["x-forwarded-for"] : undefined;
  const ip = (typeof fwd === "string" ? fwd.split(",")[0].trim() : null) ?? socket.handshake.address;
  return ip?.replace(/^::ffff:/, "") || null;
}

/**
 * The socket.io side of the console: /agent for agents (credential auth, validated messages,
 * presence), /ui for browsers (session auth, coalesced change notifications), both driven by
 * the Postgres bus so that every console process reacts to changes made by any other.
 */
export async function startGateway(opts: { httpServer: http.Server; databaseUrl: string; onBusEvent?: (ev: BusEvent) => void }): Promise<Gateway> {
  const io = new Server(opts.httpServer, {
    // Transport-level cap; onValidated applies the protocol's tighter per-message limit.
    maxHttpBufferSize: MAX_MESSAGE_BYTES * 4,
    pingInterval: 25_000,
    pingTimeout: 20_000,
    serveClient: false,
  });
  let settings = await getSettings();
  const agents = new Map<string, Socket>();
  const pendingHeartbeats = new Set<string>();
  const pendingUi = { ids: new Set<string>(), all: false };
  const pendingRollouts = new Set<string>();
  const jobs = new JobRelay(agents);
  let closing = false;
  let pruning: Promise<void> | null = null;
  const prune = () => {
    pruning ??= pruneHostEvents({ retentionDays: settings.hostEventRetentionDays })
      .then((n) => void (n > 0 && log.info({ deleted: n, retentionDays: settings.hostEventRetentionDays }, "pruned old host events")))
      .catch((err) => log.error({ err }, "host event pruning failed"))
      .finally(() => (pruning = null));
  };

  const agentNs: Namespace = io.of(AGENT_NAMESPACE);
  agentNs.use(async (socket, next) => {
    const auth = AgentAuthSchema.safeParse(socket.handshake.auth);
    if (!auth.success) {
      const protocol = (socket.handshake.auth as { protocol?: unknown } | undefined)?.protocol;
      return next(new Error(protocol !== undefined && protocol !== 1 ? CONNECT_ERRORS.protocol : CONNECT_ERRORS.badAuth));
    }
    try {
      const r = await authenticateAgent(auth.data);
      if (!r.ok) return next(new Error(r.reason === "revoked" ? CONNECT_ERRORS.revoked : CONNECT_ERRORS.badAuth));
      socket.data.hostId = r.hostId;
      socket.data.hostname = r.hostname;
      next();
    } catch (err) {
      log.error({ err }, "agent authentication failed");
      next(new Error("console unavailable"));
    }
  });

  agentNs.on("connection", (socket) => {
    const hostId = socket.data.hostId as string;
    const ip = clientIp(socket);
    const older = agents.get(hostId);
    if (older) {
      older.data.replaced = true;
      older.disconnect(true);
    }
    agents.set(hostId, socket);
    metrics.agentsConnected.set(agents.size);
    // This connection's generation, known before the bus can announce another one of this host.
    socket.data.connectedAt = new Date();
    const connected = markConnected({ hostId, ip, connectionId: socket.id, at: socket.data.connectedAt as Date }).then(
      (at) => at,
      (err) => {
        log.error({ err, hostId }, "could not record connection");
        socket.disconnect(true);
        return null;
      },
    );
    socket.emit("config", { heartbeatIntervalSec: settings.heartbeatIntervalSec });
    void connected.then((at) => (at ? jobs.onConnected(socket) : undefined)).catch((err) => log.error({ err, hostId }, "could not send open jobs"));

    onValidated(socket, "inventory", InventorySchema, async (inv) => {
      const now = Date.now();
      const recent = ((socket.data.inventoryTimes as number[] | undefined) ?? []).filter((t) => now - t < 60_000);
      if (recent.length >= MAX_INVENTORIES_PER_MINUTE) throw new RefusedMessage(`at most ${MAX_INVENTORIES_PER_MINUTE} inventories a minute`);
      socket.data.inventoryTimes = [...recent, now];
      await connected;
      await ingestInventory({ hostId, inventory: inv });
    });
    onValidated(socket, "heartbeat", HeartbeatSchema, async () => {
      pendingHeartbeats.add(hostId);
    });
    onValidated(socket, "job_update", JobUpdateSchema, async (update) => {
      const now = Date.now();
      const recent = ((socket.data.jobUpdateTimes as number[] | undefined) ?? []).filter((t) => now - t < 60_000);
      if (recent.length >= MAX_JOB_UPDATES_PER_MINUTE) throw new RefusedMessage(`at most ${MAX_JOB_UPDATES_PER_MINUTE} job updates a minute`);
      recent.push(now);
      socket.data.jobUpdateTimes = recent;
      await connected;
      await jobs.record(hostId, update);
    });
    socket.onAny((event: string, ...args: unknown[]) => {
      if (KNOWN_AGENT_EVENTS.has(event)) return;
      const ack = args.find((a) => typeof a === "function") as ((a: Ack) => void) | undefined;
      refuse(socket, String(event).slice(0, 64), `unknown event "${String(event).slice(0, 64)}"`, ack);
    });

    socket.on("disconnect", async (reason) => {
      if (agents.get(hostId) === socket) agents.delete(hostId);
      metrics.agentsConnected.set(agents.size);
      const at = await connected;
      if (!at || closing) return;
      await markDisconnected({ hostId, connectedAt: at, reason: socket.data.replaced ? "replaced by a newer connection" : reason }).catch((err) =>
        log.error({ err, hostId }, "could not record disconnection"),
      );
    });
  });

  const uiNs = io.of(UI_NAMESPACE);
  uiNs.use(async (socket, next) => {
    try {
      // Another site's page must not open a socket with the visitor's cookie (cross-site WebSocket hijacking).
      if (!uiOriginAllowed(socket.handshake.headers, PUBLIC_URL, TRUST_PROXY)) return next(new Error("cross-site connection refused"));
      const who = await authenticate({ cookie: socket.handshake.headers.cookie ?? null, authorization: socket.handshake.headers.authorization ?? null, ip: clientIp(socket) });
      if (!who) return next(new Error("sign in first"));
      socket.data.actor = who.actor;
      socket.data.operatorId = who.operatorId;
      socket.data.sessionId = who.sessionId ?? null;
      socket.data.apiTokenId = who.via === "api_token" ? who.actor.id : null;
      next();
    } catch (err) {
      log.error({ err }, "ui authentication failed");
      next(new Error("console unavailable"));
    }
  });
  uiNs.on("connection", (socket) => {
    metrics.uiClients.inc();
    socket.on("disconnect", () => metrics.uiClients.dec());
    // A revocation committed between the handshake's check and now found no socket to drop:
    // look once more, now that later revocation events will find this socket.
    recheckUiSockets([socket]).catch((err) => log.error({ err }, "ui socket re-check failed"));
  });

  /** Disconnects the /ui sockets signed in with what was revoked; they get nothing more. */
  const dropUiSockets = (matches: (s: Socket) => boolean) => {
    for (const s of uiNs.sockets.values()) if (matches(s)) s.disconnect(true);
  };
  // Backstop for what no event announces (a session or token expiring) or an event missed
  // while the bus reconnected: re-validate every /ui socket's credentials now and then.
  const recheckUiSockets = async (sockets: Socket[] = [...uiNs.sockets.values()]) => {
    if (sockets.length === 0) return;
    const sessionIds = sockets.map((s) => s.data.sessionId as string | null).filter((x): x is string => !!x);
    const apiTokenIds = sockets.map((s) => s.data.apiTokenId as string | null).filter((x): x is string => !!x);
    const valid = await stillValid({ sessionIds: [...new Set(sessionIds)], apiTokenIds: [...new Set(apiTokenIds)] });
    const invalid = (s: Socket) => (s.data.sessionId ? !valid.sessionIds.has(s.data.sessionId) : s.data.apiTokenId ? !valid.apiTokenIds.has(s.data.apiTokenId) : true);
    for (const s of sockets) if (s.connected && invalid(s)) s.disconnect(true);
  };

  const dropHost = (hostId: string, reason: string, tell: boolean) => {
    const s = agents.get(hostId);
    if (!s) return;
    if (tell) s.emit("revoked", { reason });
    s.data.replaced = !tell;
    // Give the `revoked` message a moment to leave before closing.
    setTimeout(() => s.disconnect(true), tell ? 100 : 0);
  };

  const onBus = (ev: BusEvent) => {
    switch (ev.type) {
      case "hosts.changed":
        bumpFleetVersion();
        if (ev.all) pendingUi.all = true;
        for (const id of ev.ids) pendingUi.ids.add(id);
        break;
      case "host.revoked":
        dropHost(ev.hostId, ev.reason, true);
        break;
      case "host.credential_rotated":
        dropHost(ev.hostId, "credential replaced by re-enrollment", false);
        break;
      case "host.connected": {
        const s = agents.get(ev.hostId);
        // Only a newer connection replaces this one: an older connection's announcement can
        // arrive after its host has already reconnected (here or elsewhere).
        if (s && s.id !== ev.connectionId && new Date(ev.at).getTime() > (s.data.connectedAt as Date).getTime()) dropHost(ev.hostId, "connected elsewhere", false);
        break;
      }
      case "auth.revoked":
        dropUiSockets(
          (s) =>
            (!!ev.sessionId && s.data.sessionId === ev.sessionId) ||
            (!!ev.apiTokenId && s.data.apiTokenId === ev.apiTokenId) ||
            (!!ev.operatorSessions && !!s.data.sessionId && s.data.operatorId === ev.operatorSessions) ||
            (!!ev.operatorTokens && !!s.data.apiTokenId && s.data.operatorId === ev.operatorTokens),
        );
        break;
      case "audit.appended":
        uiNs.emit("audit:appended", { seq: ev.seq });
        break;
      case "builds.changed":
        uiNs.emit("builds:changed", { patchId: ev.patchId, buildId: ev.buildId, log: ev.log ?? false });
        break;
      case "rollouts.changed":
        pendingRollouts.add(ev.id);
        break;
      case "rollout.dispatched":
        jobs.onDispatched(ev).catch((err) => log.error({ err, rolloutId: ev.rolloutId }, "could not send dispatched jobs"));
        break;
      case "settings.changed":
        bumpFleetVersion();
        void getSettings().then((s) => {
          settings = s;
          agentNs.emit("config", { heartbeatIntervalSec: s.heartbeatIntervalSec });
          prune();
        });
        break;
    }
  };
  const bus: BusListener = await listenBus(opts.databaseUrl, (ev) => {
    onBus(ev);
    opts.onBusEvent?.(ev);
  });

  const timers = [
    setInterval(() => {
      if (pendingHeartbeats.size === 0) return;
      const ids = [...pendingHeartbeats];
      pendingHeartbeats.clear();
      recordHeartbeats(ids).then(
        () => metrics.heartbeatsFlushed.inc(ids.length),
        (err) => log.error({ err }, "heartbeat flush failed"),
      );
    }, HEARTBEAT_FLUSH_MS),
    setInterval(() => {
      if (pendingUi.ids.size === 0 && !pendingUi.all) return;
      const payload = pendingUi.all || pendingUi.ids.size > 200 ? { ids: [], all: true } : { ids: [...pendingUi.ids] };
      pendingUi.ids.clear();
      pendingUi.all = false;
      uiNs.emit("hosts:changed", payload);
    }, UI_FLUSH_MS),
    setInterval(() => {
      if (pendingRollouts.size === 0) return;
      const ids = [...pendingRollouts];
      pendingRollouts.clear();
      uiNs.emit("rollouts:changed", { ids });
    }, UI_FLUSH_MS),
    setInterval(() => {
      recheckUiSockets().catch((err) => log.error({ err }, "ui socket re-check failed"));
    }, UI_RECHECK_MS),
    setInterval(() => {
      // Three missed heartbeats (and never less than 90 s) before a silent host counts as offline.
      sweepSilentHosts({ silentForSec: Math.max(90, settings.heartbeatIntervalSec * 3) }).catch((err) => log.error({ err }, "sweep failed"));
    }, SWEEP_MS),
    setInterval(prune, PRUNE_MS),
  ];
  prune();

  return {
    io,
    connectedAgents: () => agents.size,
    async close() {
      closing = true;
      for (const t of timers) clearInterval(t);
      await pruning;
      if (pendingHeartbeats.size) await recordHeartbeats([...pendingHeartbeats]).catch(() => {});
      await jobs.close().catch(() => {});
      // Say goodbye properly: hosts this process served go offline now, not after the sweep.
      await markManyDisconnected({ hostIds: [...agents.keys()], reason: "console stopped" }).catch((err) =>
        log.error({ err }, "could not mark hosts offline at shutdown"),
      );
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await bus.close();
    },
  };
}
