// npm run build-worker: runs builds taken from the console's queue, on this machine, with its own
// cache of prepared kernel releases (under SPLICER_DATA_DIR). Start as many as you like, on as many
// machines: each needs only the console's DATABASE_URL (and the builder's settings, as the console
// would take them: SPLICER_BUILDER, …). It holds no key: a console checks and signs what it built.
// Settings: lib/builds/config.ts. SIGTERM or Ctrl-C: running builds may finish within
// SPLICER_BUILD_STOP_GRACE_SEC (60), then go back to the queue; a second signal hands them back now.
import fs from "node:fs";
import { loadBuildWorkerConfig, type BuildWorkerConfig } from "@/lib/builds/config";
import { missingMigrations } from "@/lib/db/migrate";

const say = (line: string) => console.error(`splicer build-worker: ${line}`);

let config: BuildWorkerConfig;
try {
  config = loadBuildWorkerConfig();
} catch (err) {
  say((err as Error).message);
  process.exit(2);
}

try {
  // The consoles own the schema; a worker never migrates it, and never runs against one older than its code.
  const missing = await missingMigrations({ url: config.databaseUrl });
  if (missing.length > 0) {
    say(`the database lacks migration${missing.length === 1 ? "" : "s"} ${missing.join(", ")}: start (or upgrade) the console first`);
    process.exit(1);
  }
} catch (err) {
  say(`cannot reach the database at DATABASE_URL: ${(err as Error).message}`);
  process.exit(1);
}

process.env.DATABASE_URL = config.databaseUrl;
fs.mkdirSync(config.dataDir, { recursive: true });
const { createBuilder } = await import("@/lib/builds/builders");
const { startBuildWorker } = await import("@/lib/builds/worker");
const { disconnectPrisma } = await import("@/lib/db/client");

const worker = await startBuildWorker({
  kind: "worker",
  builder: createBuilder(config.builder, { dataDir: config.dataDir }),
  concurrency: config.concurrency,
  run: config.run,
  databaseUrl: config.databaseUrl,
}).catch((err: unknown) => {
  say(`could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

say(`${worker.name} (${config.builder.builder} builder, ${config.concurrency} at a time, cache in ${config.dataDir}) is taking builds`);
console.log(`SPLICER_BUILD_WORKER_READY ${worker.name} ${worker.id}`);

// Under npm a signal can arrive twice at once (Ctrl-C reaches the whole process group, and npm
// forwards its own copy): a second one counts only a second or more after the first.
let firstSignalAt = 0;
const stop = (signal: string) => {
  if (firstSignalAt === 0) {
    firstSignalAt = Date.now();
    say(`${signal}: taking no more builds; running ones have ${config.run.stopGraceMs / 1000} s to finish`);
    void worker
      .stop()
      .then(() => disconnectPrisma())
      .then(
        () => {
          say("stopped");
          process.exit(0);
        },
        (err: unknown) => {
          say(`stop failed: ${err instanceof Error ? err.message : String(err)}`);
          process.exit(1);
        },
      );
  } else if (Date.now() - firstSignalAt >= 1_000) {
    say(`${signal} again: handing running builds back now`);
    void worker.stop(0);
  }
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
