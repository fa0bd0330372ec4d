import "server-only";
import pg from "pg";
import { prisma, type Tx } from "@/lib/db/client";
import { log } from "@/lib/log";

/**
 * Cross-process events over Postgres LISTEN/NOTIFY. Domain functions call notify() inside their
 * transaction, so an event is delivered if and only if its change commits, to every console
 * process (each then acts on its own sockets: disconnect a revoked agent, refresh browsers).
 */
export type BusEvent =
  | { type: "hosts.changed"; ids: string[]; all?: boolean }
  | { type: "host.revoked"; hostId: string; reason: string }
  /** The host's credential was replaced (re-enrollment): drop connections using the old one. */
  | { type: "host.credential_rotated"; hostId: string }
  /** A connection was accepted somewhere: other processes drop older sockets of that host. */
  /** `at`: the connection's generation (Host.connectedAt); only a newer one replaces a connection. */
  | { type: "host.connected"; hostId: string; connectionId: string; at: string }
  | { type: "audit.appended"; seq: string }
  /**
   * Sessions or API tokens stopped being valid (logout, revocation, an operator disabled or
   * changed): every process drops the /ui sockets that signed in with them.
   */
  | { type: "auth.revoked"; sessionId?: string; apiTokenId?: string; /** all sessions of this operator */ operatorSessions?: string; /** all tokens this operator created */ operatorTokens?: string }
  /** Builds of a patch were created or changed state; `log` when only their log grew. */
  | { type: "builds.changed"; patchId: string; buildId?: string; log?: boolean }
  | { type: "settings.changed" }
  /** What agents are told (reloading at boot, per group) may have changed: send connected agents their config again. */
  | { type: "agents.config_changed" }
  /** A rollout's status or hosts changed: its engine should look again, browsers refresh. */
  | { type: "rollouts.changed"; id: string }
  /** Hosts of a rollout were dispatched at `at`: the process holding each host's socket sends the job. */
  | { type: "rollout.dispatched"; rolloutId: string; at: string };

export const BUS_CHANNEL = "splicer_events";
// NOTIFY payloads must stay under 8000 bytes.
const MAX_IDS = 100;

export function encodeBusEvent(ev: BusEvent): string {
  if (ev.type === "hosts.changed" && ev.ids.length > MAX_IDS) return JSON.stringify({ type: "hosts.changed", ids: [], all: true });
  return JSON.stringify(ev);
}

export async function notify(tx: Tx, ev: BusEvent): Promise<void> {
  await tx.$executeRaw`select pg_notify(${BUS_CHANNEL}, ${encodeBusEvent(ev)})`;
}

export interface BusListener {
  close(): Promise<void>;
}

/** Listens on a dedicated connection and reconnects if it drops. */
export async function listenBus(url: string, onEvent: (ev: BusEvent) => void): Promise<BusListener> {
  let closed = false;
  let client: pg.Client | null = null;
  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    c.on("notification", (msg) => {
      if (msg.channel !== BUS_CHANNEL || !msg.payload) return;
      try {
        onEvent(JSON.parse(msg.payload) as BusEvent);
      } catch (err) {
        log.error({ err }, "bad bus event");
      }
    });
    c.on("error", (err) => {
      log.warn({ err }, "bus connection lost; reconnecting");
      c.end().catch(() => {});
      if (!closed) setTimeout(() => void (closed ? null : connect().catch((e) => log.error({ err: e }, "bus reconnect failed"))), 1000).unref();
    });
    await c.connect();
    await c.query(`LISTEN ${BUS_CHANNEL}`);
    client = c;
  };
  await connect();
  return {
    async close() {
      closed = true;
      await client?.end().catch(() => {});
    },
  };
}


/** For events outside a transaction (progress of long work, such as a build's log). */
export async function publish(ev: BusEvent): Promise<void> {
  await prisma.$executeRaw`select pg_notify(${BUS_CHANNEL}, ${encodeBusEvent(ev)})`;
}
