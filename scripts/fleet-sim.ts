// `npm run fleet:sim -- --server URL --enroll-token T --agents N [--state-dir DIR] [--seed S] [--heartbeat-sec N]`
// Runs N simulated agents in this process until Ctrl-C.
import { z } from "zod";
import { parseFlags } from "./lib/cli";
import { LOG_LEVELS, Logger } from "../agent/log";
import { startFleet } from "../agent/sim/fleet";

const USAGE = `Usage: npm run fleet:sim -- --server URL --enroll-token TOKEN --agents N [options]

  --server URL              console URL (or SPLICER_SERVER)
  --enroll-token TOKEN      enrollment token (or SPLICER_ENROLL_TOKEN); reused for every agent
  --agents N                how many simulated hosts (default 20)
  --state-dir DIR           credentials file location (default .data/fleet-sim/<hash of server>)
  --seed S                  same seed, same hosts (default "splicer")
  --heartbeat-sec N         override the console's heartbeat interval
  --enroll-concurrency N    enrollments in flight (default 50)
  --connect-concurrency N   handshakes in flight (default 100)
  --connect-spread-ms N     spread first connects over 0..N ms (default 2 ms per agent, max 10 s)
  --apply-ms N              how long each simulated livepatch apply/revert takes (default 0)
  --failure-rate R          chance (0..1) that a simulated apply fails (default 0)
  --reboot-every-sec N      every N seconds one random host reboots (its agent reloads its kept
                            patches before reconnecting); default: never
  --log-level LEVEL         agents' own logs, one line per agent per event (default silent:
                            the simulator prints progress and revocations itself)
`;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const Schema = z.object({
  server: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
  enrollToken: z.string().min(8, "must be at least 8 characters"),
  agents: int(0, 100_000).default(20),
  stateDir: z.string().min(1).optional(),
  seed: z.string().min(1).default("splicer"),
  heartbeatSec: int(1, 3600).optional(),
  enrollConcurrency: int(1, 1000).optional(),
  connectConcurrency: int(1, 10_000).optional(),
  connectSpreadMs: int(0, 600_000).optional(),
  applyMs: int(0, 3_600_000).optional(),
  failureRate: z.coerce.number().min(0, "must be between 0 and 1").max(1, "must be between 0 and 1").optional(),
  rebootEverySec: int(1, 86_400).optional(),
  logLevel: z.enum(LOG_LEVELS).default("silent"),
});

function parse(): z.infer<typeof Schema> {
  return parseFlags({
    name: "fleet-sim",
    usage: USAGE,
    options: {
      server: { type: "string" },
      "enroll-token": { type: "string" },
      agents: { type: "string" },
      "state-dir": { type: "string" },
      seed: { type: "string" },
      "heartbeat-sec": { type: "string" },
      "enroll-concurrency": { type: "string" },
      "connect-concurrency": { type: "string" },
      "connect-spread-ms": { type: "string" },
      "apply-ms": { type: "string" },
      "failure-rate": { type: "string" },
      "reboot-every-sec": { type: "string" },
      "log-level": { type: "string" },
    },
    schema: Schema,
    input: (values) => ({
      server: values.server ?? process.env.SPLICER_SERVER,
      enrollToken: values["enroll-token"] ?? process.env.SPLICER_ENROLL_TOKEN,
      agents: values.agents,
      stateDir: values["state-dir"],
      seed: values.seed,
      heartbeatSec: values["heartbeat-sec"],
      enrollConcurrency: values["enroll-concurrency"],
      connectConcurrency: values["connect-concurrency"],
      connectSpreadMs: values["connect-spread-ms"],
      applyMs: values["apply-ms"],
      failureRate: values["failure-rate"],
      rebootEverySec: values["reboot-every-sec"],
      logLevel: values["log-level"],
    }),
  });
}

async function main(): Promise<void> {
  let args;
  try {
    args = parse();
  } catch (err) {
    process.stderr.write(`fleet-sim: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    process.exit(2);
  }
  const started = Date.now();
  const abort = new AbortController();
  let fleet: Awaited<ReturnType<typeof startFleet>> | null = null;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) process.exit(130); // second Ctrl-C: do not wait
    stopping = true;
    process.stderr.write(`fleet-sim: ${signal}, stopping\n`);
    // While still enrolling, aborting makes startFleet stop the agents and reject.
    abort.abort();
    await fleet?.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  try {
    fleet = await startFleet({ ...args, signal: abort.signal, log: new Logger(args.logLevel, { component: "fleet-sim" }) });
  } catch (err) {
    if (stopping) return; // shutdown() exits
    throw err;
  }
  try {
    await fleet.waitConnected(undefined, 10 * 60_000);
    const rss = Math.round(process.memoryUsage().rss / 1024 ** 2);
    process.stderr.write(`fleet-sim: all ${fleet.connectedCount()} agents connected in ${((Date.now() - started) / 1000).toFixed(1)} s (rss ${rss} MiB); Ctrl-C to stop\n`);
  } catch (err) {
    process.stderr.write(`fleet-sim: ${err instanceof Error ? err.message : String(err)}; still trying, Ctrl-C to stop\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`fleet-sim: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
