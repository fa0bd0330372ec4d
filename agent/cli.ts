// Entry point of the bundled agent (agent/dist/splicer-agent.js) and of `tsx agent/cli.ts`.
import * as path from "node:path";
import { Agent, EXIT } from "./agent";
import { LivepatchBackend } from "./backends/livepatch";
import { SimulatedKernel } from "./backends/simulate";
import type { KernelBackend } from "./backends/types";
import { ConfigError, USAGE, parseCli } from "./config";
import { InventoryCollector, SystemFacts } from "./inventory";
import { FileJobStore } from "./jobs/store";
import { Logger, errorMessage } from "./log";
import { FileKeptPatches } from "./boot/kept-patches";
import { BootReloader } from "./boot/reload";
import type { ReloadReport } from "./protocol";
import { ensurePrivateDir } from "./durable-file";
import { FileCredentialStore, FileRefusalCounter } from "./state";
import { AGENT_VERSION } from "./version";

export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  let parsed;
  try {
    parsed = parseCli(argv, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`splicer-agent: ${err.message}\nRun 'splicer-agent --help' for usage.\n`);
    return EXIT.config;
  }
  if (parsed.kind === "help") {
    process.stdout.write(USAGE);
    return EXIT.ok;
  }
  if (parsed.kind === "version") {
    process.stdout.write(AGENT_VERSION + "\n");
    return EXIT.ok;
  }
  const config = parsed.config;
  const log = new Logger(config.logLevel, { component: "splicer-agent", version: AGENT_VERSION });

  try {
    await ensurePrivateDir(config.stateDir);
  } catch (err) {
    log.error("cannot create the state directory", { stateDir: config.stateDir, error: errorMessage(err) });
    return EXIT.failed;
  }

  // The simulate backend pretends about the kernel only: host facts still come from this machine.
  const backend: KernelBackend =
    config.backend === "livepatch"
      ? new LivepatchBackend({
          sysRoot: config.sysfsRoot,
          procRoot: config.procRoot,
          modulesDir: path.join(config.stateDir, "modules"),
          insmod: config.insmod,
          rmmod: config.rmmod,
          log,
        })
      : new SimulatedKernel({
          behavior: {
            applyMs: config.simulateApplyMs,
            failureRate: config.simulateFailureRate,
            forceFailure: config.simulateFail === "none" ? null : config.simulateFail,
          },
        });
  const kept = new FileKeptPatches({ stateDir: config.stateDir, log });
  let bootReport: ReloadReport | null = null;
  const credentials = new FileCredentialStore(config.stateDir);
  const inventory = new InventoryCollector({
    backend,
    host: new SystemFacts({ procRoot: config.procRoot, etcRoot: config.etcRoot, stateDir: config.stateDir }),
    // This boot's reload (below), reported with every inventory.
    reload: async () => bootReport,
  });

  // Before connecting: the console may be down, the host's fixes must not wait for it. Once per
  // boot: when the early unit (--reload-only) did it, this returns that report and loads nothing.
  try {
    bootReport = await new BootReloader({
      store: kept,
      backend,
      boot: () => inventory.bootFacts(),
      consoleKey: async () => (await credentials.load().catch(() => null))?.consolePublicKey ?? null,
      log,
    }).run();
    if (bootReport?.patches.length) log.info("kept patches handled at boot", { bootId: bootReport.bootId, patches: bootReport.patches.map((p) => `${p.moduleName}: ${p.outcome}`) });
  } catch (err) {
    log.error("could not load the kept patches again", { error: errorMessage(err) });
  }
  if (parsed.kind === "reload") return EXIT.ok;
  const server = parsed.config.server;

  const agent = new Agent({
    server,
    enrollToken: config.enrollToken,
    credentials,
    kept,
    refusals: new FileRefusalCounter(config.stateDir),
    inventory,
    log,
    heartbeatSecOverride: config.heartbeatSec,
    jobStore: new FileJobStore({ dir: path.join(config.stateDir, "jobs"), log }),
  });

  const onSignal = (signal: NodeJS.Signals) => {
    log.info("signal received, stopping", { signal });
    void agent.stop();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  log.info("starting", { server, backend: config.backend, stateDir: config.stateDir });
  await agent.start();
  const exit = await agent.done;
  return exit.code;
}

main(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`splicer-agent: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(EXIT.failed);
  },
);
