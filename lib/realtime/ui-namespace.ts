import "server-only";
import type { Server, Socket } from "socket.io";
import { UI_NAMESPACE } from "@/lib/api/schemas";
import { authenticate } from "@/lib/auth/authenticate";
import { stillValid } from "@/lib/auth/sessions";
import type { BusEvent } from "@/lib/db/bus";
import { bumpFleetVersion } from "@/lib/fleet/summary";
import { handshakeIp } from "@/lib/http/headers";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics";
import { uiOriginAllowed } from "./ui-origin";

const UI_FLUSH_MS = 250;

export interface UiNamespace {
  /** The bus events browsers hear of (coalesced), and revocations that close their sockets. */
  onBus(ev: BusEvent): void;
  close(): void;
}

/**
 * The browsers' socket namespace: session or token auth at the handshake (same-origin only),
 * change notifications fanned out from the bus (host and rollout changes coalesced every
 * 250 ms), sockets closed when what signed them in is revoked or expires.
 */
export function attachUiNamespace(opts: { io: Server; trustProxy: boolean; publicUrl: string | undefined; recheckMs: number }): UiNamespace {
  const pendingHosts = { ids: new Set<string>(), all: false };
  const pendingRollouts = new Set<string>();
  const ns = opts.io.of(UI_NAMESPACE);

  ns.use(async (socket, next) => {
    try {
      // Another site's page must not open a socket with the visitor's cookie (cross-site WebSocket hijacking).
      if (!uiOriginAllowed(socket.handshake.headers, opts.publicUrl, opts.trustProxy)) return next(new Error("cross-site connection refused"));
      const who = await authenticate({
        cookie: socket.handshake.headers.cookie ?? null,
        authorization: socket.handshake.headers.authorization ?? null,
        ip: handshakeIp(socket.handshake, opts.trustProxy),
      });
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
  ns.on("connection", (socket) => {
    metrics.uiClients.inc();
    socket.on("disconnect", () => metrics.uiClients.dec());
    // A revocation committed between the handshake's check and now found no socket to drop:
    // look once more, now that later revocation events will find this socket.
    recheck([socket]).catch((err) => log.error({ err }, "ui socket re-check failed"));
  });

  /** Disconnects the sockets signed in with what was revoked; they get nothing more. */
  const drop = (matches: (s: Socket) => boolean) => {
    for (const s of ns.sockets.values()) if (matches(s)) s.disconnect(true);
  };
  // Backstop for what no event announces (a session or token expiring) or an event missed
  // while the bus reconnected: re-validate every socket's credentials now and then.
  const recheck = async (sockets: Socket[] = [...ns.sockets.values()]) => {
    if (sockets.length === 0) return;
    const sessionIds = sockets.map((s) => s.data.sessionId as string | null).filter((x): x is string => !!x);
    const apiTokenIds = sockets.map((s) => s.data.apiTokenId as string | null).filter((x): x is string => !!x);
    const valid = await stillValid({ sessionIds: [...new Set(sessionIds)], apiTokenIds: [...new Set(apiTokenIds)] });
    const invalid = (s: Socket) => (s.data.sessionId ? !valid.sessionIds.has(s.data.sessionId) : s.data.apiTokenId ? !valid.apiTokenIds.has(s.data.apiTokenId) : true);
    for (const s of sockets) if (s.connected && invalid(s)) s.disconnect(true);
  };

  const timers = [
    setInterval(() => {
      if (pendingHosts.ids.size === 0 && !pendingHosts.all) return;
      const payload = pendingHosts.all || pendingHosts.ids.size > 200 ? { ids: [], all: true } : { ids: [...pendingHosts.ids] };
      pendingHosts.ids.clear();
      pendingHosts.all = false;
      ns.emit("hosts:changed", payload);
    }, UI_FLUSH_MS),
    setInterval(() => {
      if (pendingRollouts.size === 0) return;
      const ids = [...pendingRollouts];
      pendingRollouts.clear();
      ns.emit("rollouts:changed", { ids });
    }, UI_FLUSH_MS),
    setInterval(() => {
      recheck().catch((err) => log.error({ err }, "ui socket re-check failed"));
    }, opts.recheckMs),
  ];

  return {
    onBus(ev) {
      switch (ev.type) {
        case "hosts.changed":
          bumpFleetVersion();
          if (ev.all) pendingHosts.all = true;
          for (const id of ev.ids) pendingHosts.ids.add(id);
          break;
        case "settings.changed":
          bumpFleetVersion();
          break;
        case "auth.revoked":
          drop(
            (s) =>
              (!!ev.sessionId && s.data.sessionId === ev.sessionId) ||
              (!!ev.apiTokenId && s.data.apiTokenId === ev.apiTokenId) ||
              (!!ev.operatorSessions && !!s.data.sessionId && s.data.operatorId === ev.operatorSessions) ||
              (!!ev.operatorTokens && !!s.data.apiTokenId && s.data.operatorId === ev.operatorTokens),
          );
          break;
        case "audit.appended":
          ns.emit("audit:appended", { seq: ev.seq });
          break;
        case "builds.changed":
          ns.emit("builds:changed", { patchId: ev.patchId, buildId: ev.buildId, log: ev.log ?? false });
          break;
        case "rollouts.changed":
          pendingRollouts.add(ev.id);
          break;
      }
    },
    close() {
      for (const t of timers) clearInterval(t);
    },
  };
}
