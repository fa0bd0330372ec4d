import "server-only";
import client from "prom-client";

// One registry per process, on globalThis so Next's module copy and server.ts share it.
const g = globalThis as unknown as { __splicerMetrics?: ReturnType<typeof create> };

function create() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: "splicer_process_" });
  return {
    registry,
    agentsConnected: new client.Gauge({ name: "splicer_agents_connected", help: "Agent connections held by this process", registers: [registry] }),
    agentMessages: new client.Counter({ name: "splicer_agent_messages_total", help: "Messages received from agents", labelNames: ["event", "result"], registers: [registry] }),
    uiClients: new client.Gauge({ name: "splicer_ui_clients_connected", help: "Browser connections on /ui", registers: [registry] }),
    dbQuery: new client.Histogram({
      name: "splicer_db_query_seconds",
      help: "Latency of database operations issued through Prisma",
      labelNames: ["model", "operation"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    jobsSent: new client.Counter({ name: "splicer_jobs_sent_total", help: "Rollout jobs sent to (and acknowledged by) agents", registers: [registry] }),
    jobUpdates: new client.Counter({ name: "splicer_job_updates_total", help: "Job updates from agents: stored, or ignored (stale or repeated)", labelNames: ["result"], registers: [registry] }),
    fleetHosts: new client.Gauge({ name: "splicer_fleet_hosts", help: "Hosts of the fleet by state (active total, online, stale, revoked, drifting: live patches differ from what rollouts applied, reboot_required: exposed to a CVE no live patch can fix on their release)", labelNames: ["state"], registers: [registry] }),
    heartbeatsFlushed: new client.Counter({ name: "splicer_heartbeats_ingested_total", help: "Agent heartbeats written to the database", registers: [registry] }),
  };
}

export const metrics = (g.__splicerMetrics ??= create());
