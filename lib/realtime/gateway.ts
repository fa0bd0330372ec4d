import "server-only";
import type http from "node:http";
import { Server } from "socket.io";
import { MAX_MESSAGE_BYTES } from "@/agent/protocol";
import { attachAgentNamespace } from "@/lib/agents/namespace";
import { env } from "@/lib/config";
import { listenBus, type BusEvent, type BusListener } from "@/lib/db/bus";
import { pruneHostEvents } from "@/lib/fleet/host-events";
import { log } from "@/lib/log";
import { getSettings } from "@/lib/settings/settings";
import { attachUiNamespace } from "./ui-namespace";

export interface Gateway {
  io: Server;
  connectedAgents(): number;
  close(): Promise<void>;
}

// Host timeline retention: checked this often, at start and whenever the settings change.
const PRUNE_MS = 10 * 60_000;

/**
 * The socket.io side of the console: /agent for agents (lib/agents/namespace.ts), /ui for
 * browsers (ui-namespace.ts), both driven by the Postgres bus so that every console process
 * reacts to changes made by any other.
 */
export async function startGateway(opts: { httpServer: http.Server; databaseUrl: string; onBusEvent?: (ev: BusEvent) => void }): Promise<Gateway> {
  // Parsed once, after the start checked them; every handshake reads them.
  const { SPLICER_UI_RECHECK_MS, SPLICER_TRUST_PROXY, SPLICER_PUBLIC_URL } = env();
  const io = new Server(opts.httpServer, {
    // Transport-level cap; the agent namespace applies the protocol's tighter per-message limit.
    maxHttpBufferSize: MAX_MESSAGE_BYTES * 4,
    pingInterval: 25_000,
    pingTimeout: 20_000,
    serveClient: false,
  });
  let settings = await getSettings();
  const agents = attachAgentNamespace({ io, settings: () => settings, trustProxy: SPLICER_TRUST_PROXY });
  const ui = attachUiNamespace({ io, trustProxy: SPLICER_TRUST_PROXY, publicUrl: SPLICER_PUBLIC_URL, recheckMs: SPLICER_UI_RECHECK_MS });

  let pruning: Promise<void> | null = null;
  const prune = () => {
    pruning ??= pruneHostEvents({ retentionDays: settings.hostEventRetentionDays })
      .then((n) => void (n > 0 && log.info({ deleted: n, retentionDays: settings.hostEventRetentionDays }, "pruned old host events")))
      .catch((err) => log.error({ err }, "host event pruning failed"))
      .finally(() => (pruning = null));
  };

  const bus: BusListener = await listenBus(opts.databaseUrl, (ev) => {
    agents.onBus(ev);
    ui.onBus(ev);
    if (ev.type === "settings.changed") {
      void getSettings().then((s) => {
        settings = s;
        agents.sendConfig();
        prune();
      });
    }
    opts.onBusEvent?.(ev);
  });

  const pruneTimer = setInterval(prune, PRUNE_MS);
  prune();

  return {
    io,
    connectedAgents: () => agents.connectedAgents(),
    async close() {
      clearInterval(pruneTimer);
      ui.close();
      await pruning;
      await agents.close();
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await bus.close();
    },
  };
}
