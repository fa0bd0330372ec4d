import "server-only";
import type { Namespace, Server, Socket } from "socket.io";
import { type Ack, type AgentConfig, AGENT_NAMESPACE, AgentAuthSchema, CONNECT_ERRORS, HeartbeatSchema, InventorySchema, JobUpdateSchema } from "@/agent/protocol";
import type { Settings } from "@/lib/api/schemas";
import type { BusEvent } from "@/lib/db/bus";
import { ingestInventory, markConnected, markDisconnected, markManyDisconnected, recordHeartbeats, sweepSilentHosts } from "@/lib/fleet/presence";
import { reloadOffAmong } from "@/lib/groups/groups";
import { handshakeIp } from "@/lib/http/headers";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics";
import { authenticateAgent } from "./credentials";
import { JobRelay } from "./job-relay";
import { AGENT_EVENTS, onValidated, RefusedMessage, refuse } from "./validate";

const KNOWN_AGENT_EVENTS: ReadonlySet<string> = new Set(AGENT_EVENTS);
const HEARTBEAT_FLUSH_MS = 2000;
const SWEEP_MS = 15_000;
// An agent may resend its inventory this often at most (it sends only on change).
const MAX_INVENTORIES_PER_MINUTE = 12;
// A job reports a handful of phases; this leaves room for many jobs and resends, not for a flood.
const MAX_JOB_UPDATES_PER_MINUTE = 600;
// How long the hosts whose reload at boot is off are reused for connecting agents' config.
const RELOAD_OFF_MS = 5_000;

export interface AgentNamespace {
  connectedAgents(): number;
  /** The bus events that concern agents: revocations, rotations, connections elsewhere, dispatched jobs. */
  onBus(ev: BusEvent): void;
  /** Sends every connected agent its settings again (after they changed). */
  sendConfig(): void;
  close(): Promise<void>;
}

/** Keeps at most `max` event times of the last minute on a socket; refuses the one over. */
function rateLimit(socket: Socket, key: string, max: number, what: string): void {
  const now = Date.now();
  const recent = ((socket.data[key] as number[] | undefined) ?? []).filter((t) => now - t < 60_000);
  if (recent.length >= max) throw new RefusedMessage(`at most ${max} ${what} a minute`);
  recent.push(now);
  socket.data[key] = recent;
}

/**
 * The agents' socket namespace: credential auth at the handshake, validated and rate-limited
 * messages, presence (connected, heartbeats, silent hosts swept offline) and the job relay.
 * One connection per host: a newer one, here or in another console process, replaces it.
 */
export function attachAgentNamespace(opts: { io: Server; settings: () => Settings; trustProxy: boolean }): AgentNamespace {
  const agents = new Map<string, Socket>();
  const pendingHeartbeats = new Set<string>();
  const jobs = new JobRelay(agents);
  let closing = false;

  const ns: Namespace = opts.io.of(AGENT_NAMESPACE);
  ns.use(async (socket, next) => {
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

  ns.on("connection", (socket) => {
    const hostId = socket.data.hostId as string;
    const ip = handshakeIp(socket.handshake, opts.trustProxy);
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
    void configFor([hostId]).then(
      (cfg) => socket.emit("config", cfg(hostId)),
      (err) => log.error({ err, hostId }, "could not send the agent its config"),
    );
    void connected.then((at) => (at ? jobs.onConnected(socket) : undefined)).catch((err) => log.error({ err, hostId }, "could not send open jobs"));

    onValidated(socket, "inventory", InventorySchema, async (inv) => {
      rateLimit(socket, "inventoryTimes", MAX_INVENTORIES_PER_MINUTE, "inventories");
      await connected;
      const { changed, first } = await ingestInventory({ hostId, inventory: inv });
      // Groups may select by kernel release: a host's first inventory, or a new release, may change its config.
      // Asked for this host alone: the fleet-wide cache may predate the release just stored.
      if (first || changed.includes("kernel_changed")) {
        void reloadOffAmong([hostId]).then(
          (off) => socket.emit("config", configWith(off)(hostId)),
          (err) => log.error({ err, hostId }, "could not send the agent its config"),
        );
      }
    });
    onValidated(socket, "heartbeat", HeartbeatSchema, async () => {
      pendingHeartbeats.add(hostId);
    });
    onValidated(socket, "job_update", JobUpdateSchema, async (update) => {
      rateLimit(socket, "jobUpdateTimes", MAX_JOB_UPDATES_PER_MINUTE, "job updates");
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

  /** What each of these hosts' agents is told: the heartbeat, and whether it reloads kept patches at boot. */
  // After a console restart thousands of agents connect at once: the hosts whose reload is off are
  // looked up once for all of them (and again after RELOAD_OFF_MS, or at once when groups change).
  let reloadOff: { at: number; hosts: Promise<Set<string>> } | null = null;
  const reloadOffHosts = (): Promise<Set<string>> => {
    if (!reloadOff || Date.now() - reloadOff.at > RELOAD_OFF_MS) {
      const hosts = reloadOffAmong();
      reloadOff = { at: Date.now(), hosts };
      hosts.catch(() => (reloadOff = null));
    }
    return reloadOff.hosts;
  };
  /** An agent's config, given the hosts whose reload is off. */
  const configWith = (off: ReadonlySet<string>) => {
    const heartbeatIntervalSec = opts.settings().heartbeatIntervalSec;
    return (hostId: string): AgentConfig => ({ heartbeatIntervalSec, reloadAtBoot: !off.has(hostId) });
  };
  const configFor = async (hostIds: string[]): Promise<(hostId: string) => AgentConfig> => configWith(hostIds.length ? await reloadOffHosts() : new Set<string>());

  const sendConfig = () => {
    reloadOff = null;
    void configFor([...agents.keys()]).then(
      (cfg) => {
        for (const [hostId, s] of agents) s.emit("config", cfg(hostId));
      },
      (err) => log.error({ err }, "could not send agents their config"),
    );
  };

  const dropHost = (hostId: string, reason: string, tell: boolean) => {
    const s = agents.get(hostId);
    if (!s) return;
    if (tell) s.emit("revoked", { reason });
    s.data.replaced = !tell;
    // Give the `revoked` message a moment to leave before closing.
    setTimeout(() => s.disconnect(true), tell ? 100 : 0);
  };

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
      // Three missed heartbeats (and never less than 90 s) before a silent host counts as offline.
      sweepSilentHosts({ silentForSec: Math.max(90, opts.settings().heartbeatIntervalSec * 3) }).catch((err) => log.error({ err }, "sweep failed"));
    }, SWEEP_MS),
  ];

  return {
    connectedAgents: () => agents.size,
    sendConfig,
    onBus(ev) {
      switch (ev.type) {
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
        case "agents.config_changed":
          sendConfig();
          break;
        case "rollout.dispatched":
          jobs.onDispatched(ev).catch((err) => log.error({ err, rolloutId: ev.rolloutId }, "could not send dispatched jobs"));
          break;
      }
    },
    async close() {
      closing = true;
      for (const t of timers) clearInterval(t);
      if (pendingHeartbeats.size) await recordHeartbeats([...pendingHeartbeats]).catch(() => {});
      await jobs.close().catch(() => {});
      // Say goodbye properly: hosts this process served go offline now, not after the sweep.
      await markManyDisconnected({ hostIds: [...agents.keys()], reason: "console stopped" }).catch((err) =>
        log.error({ err }, "could not mark hosts offline at shutdown"),
      );
    },
  };
}
