// The console process: Next.js (pages and API routes), the socket.io gateway (/agent, /ui) and
// /metrics on one port. scripts/start.ts wraps it with the embedded database and the demo fleet.
import http from "node:http";
import path from "node:path";
import next from "next";
import type { TLSSocket } from "node:tls";
import { capRequestBody, PROCESS_BODY_BYTES } from "@/lib/http/body";
import { env } from "@/lib/config";
import { CLIENT_IP_HEADER } from "@/lib/http/headers";
import { malformedPath } from "@/lib/http/path";
import { baseSecurityHeaders } from "@/lib/http/security-headers";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics";
import { refreshFleetMetrics } from "@/lib/fleet/summary";
import { disconnectPrisma } from "@/lib/db/client";
import type { ConsoleBuildConfig } from "@/lib/builds/config";
import { startBuildService } from "@/lib/builds/service";
import { artifactDownloadId, serveArtifactDownload } from "@/lib/agents/artifact-http";
import { startGateway, type Gateway } from "@/lib/realtime/gateway";
import { startCheckpointWriter } from "@/lib/audit/anchor-store";
import { RolloutEngine } from "@/lib/rollouts/engine";

export interface ConsoleServer {
  url: string;
  port: number;
  gateway: Gateway;
  close(): Promise<void>;
}

export async function startServer(opts: {
  port: number;
  host?: string;
  databaseUrl: string;
  dataDir: string;
  /** Builds: whether this console runs any itself, and how (lib/builds/config.ts). */
  builds: ConsoleBuildConfig;
  dev?: boolean;
}): Promise<ConsoleServer> {
  // Next's route bundles hold their own copies of lib/ (lib/config.ts included): the environment
  // is the one channel to them for the database this process chose (an embedded one, say).
  process.env.DATABASE_URL = opts.databaseUrl;
  const { SPLICER_TRUST_PROXY } = env();
  const dir = path.dirname(new URL(import.meta.url).pathname);
  const app = next({ dev: !!opts.dev, dir, quiet: true });
  await app.prepare();
  const handle = app.getRequestHandler();
  const httpServer = http.createServer((req, res) => {
    // Only the socket knows the client's address; never trust a client-sent copy.
    delete req.headers[CLIENT_IP_HEADER];
    const ip = req.socket.remoteAddress?.replace(/^::ffff:/, "");
    if (ip) req.headers[CLIENT_IP_HEADER] = ip;
    const tls = !!(req.socket as TLSSocket).encrypted || (SPLICER_TRUST_PROXY && String(req.headers["x-forwarded-proto"]).split(",")[0].trim() === "https");
    const headers = baseSecurityHeaders({ path: (req.url ?? "/").split("?")[0], tls });
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    if (!capRequestBody(req, res, PROCESS_BODY_BYTES)) return;
    if (malformedPath(req.url ?? "/")) {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "invalid_path", message: "the path has a malformed percent escape" } }));
      return;
    }
    if (req.url === "/metrics") {
      // The fleet's gauges come from the overview's cache; a database hiccup leaves them as they were.
      refreshFleetMetrics()
        .catch((err) => log.warn({ err }, "fleet metrics not refreshed"))
        .then(() => metrics.registry.metrics())
        .then(
          (text) => {
            res.writeHead(200, { "content-type": metrics.registry.contentType });
            res.end(text);
          },
          (err) => {
            log.error({ err }, "metrics failed");
            res.writeHead(500).end();
          },
        );
      return;
    }
    const artifactId = artifactDownloadId(req);
    if (artifactId) {
      void serveArtifactDownload(req, res, { buildId: artifactId, dataDir: opts.dataDir });
      return;
    }
    handle(req, res).catch((err) => {
      log.error({ err, url: req.url }, "request handler crashed");
      if (!res.headersSent) res.writeHead(500).end("internal error");
    });
  });
  const builds = await startBuildService({ dataDir: opts.dataDir, config: opts.builds });
  const engine = new RolloutEngine();
  // Anchors the audit chain outside the database: a checkpoint of its head shortly after appends.
  const checkpoints = await startCheckpointWriter({ dataDir: opts.dataDir });
  const gateway = await startGateway({
    httpServer,
    databaseUrl: opts.databaseUrl,
    onBusEvent: (ev) => {
      // A build queued (through any process's API) or finished (by any worker): take it or record it now.
      if (ev.type === "builds.changed" && !ev.log) builds.kick();
      // Any process's change to a rollout (an agent's result, an operator's action) moves it on.
      if (ev.type === "rollouts.changed") engine.kick(ev.id);
      if (ev.type === "audit.appended") checkpoints.kick();
    },
  });
  engine.start();
  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(opts.port, opts.host ?? "0.0.0.0", () => resolve());
  });
  const port = (httpServer.address() as { port: number }).port;
  let closed = false;
  return {
    url: `http://localhost:${port}`,
    port,
    gateway,
    async close() {
      if (closed) return;
      closed = true;
      await engine.stop();
      await gateway.close();
      await builds.stop();
      await checkpoints.stop();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await app.close?.().catch(() => {});
      await disconnectPrisma();
    },
  };
}
