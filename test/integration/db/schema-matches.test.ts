// Proves that the hand-applied SQL migrations (prisma/migrations, run by lib/db/migrate.ts) build
// exactly the database that prisma/schema.prisma describes, and that they are recorded the way
// `prisma migrate deploy` expects. Prisma 7's own CLI cannot check this here (no native engine),
// so we compare Postgres' catalogs: migrated database vs. a database built from Prisma 6's
// `migrate diff --from-empty` SQL for the current schema.prisma.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { MIGRATIONS_DIR } from "../../../lib/db/migrate";
import { schemaSqlFromEmpty } from "../../../scripts/lib/prisma6";
import { createTestDatabase } from "../../helpers/db";

/**
 * Objects the migrations create on purpose outside Prisma's model (Prisma cannot express them),
 * so the Prisma-built database lacks them. Each must exist in the migrated database (checked
 * below), so this list cannot quietly hide a missing object.
 */
const OUTSIDE_PRISMA = {
  tables: ["_prisma_migrations"],
  functions: ["audit_event_append_only", "audit_event_notify"],
  triggers: ["AuditEvent.AuditEvent_append_only", "AuditEvent.AuditEvent_no_truncate", "AuditEvent.AuditEvent_notify"],
};

/** One sorted list of normalized lines per kind of catalog object, in schema `public`. */
type Catalog = Record<"tables" | "columns" | "enums" | "indexes" | "constraints" | "sequences" | "functions" | "triggers", string[]>;

const oneLine = (s: string) => s.replace(/\s+/g, " ").trim();

async function dumpCatalog(client: pg.Client): Promise<Catalog> {
  const q = async (sql: string) => (await client.query<{ line: string }>(sql)).rows.map((r) => oneLine(r.line));
  const userTable = `c.relnamespace = 'public'::regnamespace`;
  const catalog: Catalog = {
    tables: await q(`
      select c.relname || ' (' || c.relkind::text || ')' as line
      from pg_class c where ${userTable} and c.relkind in ('r', 'p', 'v', 'm', 'f')`),
    columns: await q(`
      select c.relname || '.' || a.attname || ': ' || format_type(a.atttypid, a.atttypmod)
        || case when a.attnotnull then ' NOT NULL' else '' end
        || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
        || case when a.attidentity <> '' then ' IDENTITY ' || a.attidentity::text else '' end
        || case when a.attgenerated <> '' then ' GENERATED ' || a.attgenerated::text else '' end
        || case when a.attcollation <> 0 and a.attcollation <> t.typcollation then ' COLLATE ' || a.attcollation::regcollation::text else '' end
        as line
      from pg_attribute a
      join pg_class c on c.oid = a.attrelid
      join pg_type t on t.oid = a.atttypid
      left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where ${userTable} and c.relkind in ('r', 'p', 'v', 'm', 'f') and a.attnum > 0 and not a.attisdropped`),
    enums: await q(`
      select t.typname || ': ' || string_agg(e.enumlabel, ', ' order by e.enumsortorder) as line
      from pg_type t join pg_enum e on e.enumtypid = t.oid
      where t.typnamespace = 'public'::regnamespace group by t.typname`),
    indexes: await q(`select tablename || ': ' || indexdef as line from pg_indexes where schemaname = 'public'`),
    constraints: await q(`
      select c.relname || '.' || k.conname || ': ' || pg_get_constraintdef(k.oid, true) as line
      from pg_constraint k join pg_class c on c.oid = k.conrelid
      where ${userTable}`),
    sequences: await q(`
      select sequencename || ': ' || data_type::text || ' start ' || start_value || ' increment ' || increment_by as line
      from pg_sequences where schemaname = 'public'`),
    functions: await q(`
      select p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') ' || pg_get_function_result(p.oid) as line
      from pg_proc p where p.pronamespace = 'public'::regnamespace`),
    triggers: await q(`
      select c.relname || '.' || t.tgname || ': ' || pg_get_triggerdef(t.oid) as line
      from pg_trigger t join pg_class c on c.oid = t.tgrelid
      where ${userTable} and not t.tgisinternal`),
  };
  for (const lines of Object.values(catalog)) lines.sort();
  return catalog;
}

/** The name a line is about: everything before the first ':', ' (' or '('. */
function subject(line: string): string {
  return line.split(/: | \(|\(/)[0];
}

/** Drops the objects listed in OUTSIDE_PRISMA (and columns/indexes/… of excluded tables). */
function withoutOutsidePrisma(c: Catalog): Catalog {
  const tables = new Set(OUTSIDE_PRISMA.tables);
  const ofExcludedTable = (line: string) => tables.has(line.split(/[.:]/)[0].split(" (")[0]);
  return {
    ...c,
    tables: c.tables.filter((l) => !tables.has(subject(l))),
    columns: c.columns.filter((l) => !ofExcludedTable(l)),
    indexes: c.indexes.filter((l) => !ofExcludedTable(l)),
    constraints: c.constraints.filter((l) => !ofExcludedTable(l)),
    sequences: c.sequences,
    functions: c.functions.filter((l) => !OUTSIDE_PRISMA.functions.includes(subject(l))),
    triggers: c.triggers.filter((l) => !OUTSIDE_PRISMA.triggers.includes(subject(l))),
  };
}

/** Human-readable differences, one line each; empty when the catalogs are the same. */
function diffCatalogs(migrated: Catalog, fromSchema: Catalog): string[] {
  const out: string[] = [];
  for (const kind of Object.keys(migrated) as (keyof Catalog)[]) {
    const a = new Set(migrated[kind]);
    const b = new Set(fromSchema[kind]);
    for (const l of migrated[kind]) if (!b.has(l)) out.push(`${kind}: only in migrations:  ${l}`);
    for (const l of fromSchema[kind]) if (!a.has(l)) out.push(`${kind}: only in schema.prisma: ${l}`);
  }
  return out;
}

/** A fresh, empty database on the test server (not cloned from the migrated template). */
async function createEmptyDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const server = new URL(inject("pgTemplateUrl"));
  const name = `schema_${crypto.randomBytes(6).toString("hex")}`;
  const adminUrl = Object.assign(new URL(server), { pathname: "/postgres" }).toString();
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  // template0: guaranteed pristine, whatever someone may have left in template1
  await admin.query(`create database "${name}" template template0`).finally(() => admin.end());
  return {
    url: Object.assign(new URL(server), { pathname: `/${name}` }).toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`).finally(() => c.end());
    },
  };
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe("the migrated database matches prisma/schema.prisma", () => {
  let migratedDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let schemaDb: Awaited<ReturnType<typeof createEmptyDatabase>>;
  let schemaSql: string;
  let migrated: Catalog;
  let fromSchema: Catalog;

  beforeAll(async () => {
    migratedDb = await createTestDatabase();
    schemaDb = await createEmptyDatabase();
    const t0 = Date.now();
    schemaSql = await schemaSqlFromEmpty(schemaDb.url);
    console.log(`prisma 6 migrate diff --from-empty: ${Date.now() - t0} ms`);
    expect(schemaSql).toMatch(/CREATE TABLE/);
    await withClient(schemaDb.url, (c) => c.query(schemaSql));
    migrated = await withClient(migratedDb.url, dumpCatalog);
    fromSchema = await withClient(schemaDb.url, dumpCatalog);
  });

  afterAll(async () => {
    await migratedDb?.close();
    await schemaDb?.drop();
  });

  it("has the same tables, columns, enums, indexes, constraints, sequences, functions and triggers", () => {
    // Sanity: the dump sees real objects, so an empty-vs-empty comparison cannot pass.
    expect(fromSchema.tables).toContain("AuditEvent (r)");
    expect(fromSchema.columns.length).toBeGreaterThan(50);
    expect(fromSchema.indexes.length).toBeGreaterThan(10);
    const diff = diffCatalogs(withoutOutsidePrisma(migrated), withoutOutsidePrisma(fromSchema));
    if (diff.length > 0) {
      console.error(
        `Migrations and schema.prisma differ (${diff.length}). Write a migration: \`npx tsx scripts/schema-sql.ts\` prints the SQL for the whole schema.\n  ` +
          diff.join("\n  "),
      );
    }
    expect(diff).toEqual([]);
  });

  it("keeps the objects deliberately outside Prisma's model (so the exclusion hides nothing missing)", () => {
    expect(migrated.tables).toContain("_prisma_migrations (r)");
    for (const f of OUTSIDE_PRISMA.functions) expect(migrated.functions.map(subject)).toContain(f);
    for (const t of OUTSIDE_PRISMA.triggers) expect(migrated.triggers.map(subject)).toContain(t);
  });

  it("records every migration in _prisma_migrations as Prisma does, so `prisma migrate deploy` sees them applied", async () => {
    const dirs = fs
      .readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect(dirs.length).toBeGreaterThan(0);
    const rows = await migratedDb.query<{
      id: string;
      checksum: string;
      migration_name: string;
      finished_at: Date | null;
      rolled_back_at: Date | null;
      applied_steps_count: number;
      logs: string | null;
    }>(`select id, checksum, migration_name, finished_at, rolled_back_at, applied_steps_count, logs from "_prisma_migrations" order by migration_name`);
    expect(rows.map((r) => r.migration_name)).toEqual(dirs);
    for (const r of rows) {
      // Prisma's checksum: lowercase hex sha256 of migration.sql's bytes.
      const sql = fs.readFileSync(path.join(MIGRATIONS_DIR, r.migration_name, "migration.sql"));
      expect(r.checksum, r.migration_name).toBe(crypto.createHash("sha256").update(sql).digest("hex"));
      expect(r.finished_at, r.migration_name).toBeInstanceOf(Date);
      expect(r.rolled_back_at, r.migration_name).toBeNull();
      expect(r.logs, r.migration_name).toBeNull();
      expect(r.applied_steps_count, r.migration_name).toBe(1);
      expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
    }
    // Prisma's column types, since `migrate deploy` reads this table with its own queries.
    const cols = Object.fromEntries(
      (
        await migratedDb.query<{ column_name: string; t: string }>(
          `select column_name, format_type(atttypid, atttypmod) || case when attnotnull then ' not null' else '' end as t
           from information_schema.columns join pg_attribute on attrelid = '"_prisma_migrations"'::regclass and attname = column_name
           where table_schema = 'public' and table_name = '_prisma_migrations'`,
        )
      ).map((r) => [r.column_name, r.t]),
    );
    expect(cols).toEqual({
      id: "character varying(36) not null",
      checksum: "character varying(64) not null",
      finished_at: "timestamp with time zone",
      migration_name: "character varying(255) not null",
      logs: "text",
      rolled_back_at: "timestamp with time zone",
      started_at: "timestamp with time zone not null",
      applied_steps_count: "integer not null",
    });
  });

  it("the comparison reports a database that differs (so the first case can fail)", async () => {
    const scratch = await createEmptyDatabase();
    try {
      const victimIndex = fromSchema.indexes.map((l) => l.match(/INDEX (\S+) ON/)?.[1]).find((n) => n && !/_pkey|_key/.test(n))!;
      expect(victimIndex).toBeTruthy();
      const drifted = await withClient(scratch.url, async (c) => {
        await c.query(schemaSql);
        // Drift a migration could plausibly cause: a forgotten index, a lost NOT NULL, a new enum label.
        await c.query(`drop index ${victimIndex}`);
        await c.query(`alter table "AuditEvent" alter column "actorName" drop not null`);
        await c.query(`alter type "Role" add value 'superuser'`);
        return dumpCatalog(c);
      });
      const diff = diffCatalogs(withoutOutsidePrisma(drifted), withoutOutsidePrisma(fromSchema));
      expect(diff).toEqual(
        expect.arrayContaining([
          expect.stringMatching(new RegExp(`^indexes: only in schema\\.prisma: .*INDEX ${victimIndex} ON`)),
          expect.stringMatching(/^columns: only in migrations: +AuditEvent\.actorName: text$/),
          expect.stringMatching(/^columns: only in schema\.prisma: AuditEvent\.actorName: text NOT NULL$/),
          expect.stringMatching(/^enums: only in migrations: +Role: viewer, operator, admin, superuser$/),
        ]),
      );
      // PostgreSQL 18 also lists NOT NULL as a constraint (AuditEvent_actorName_not_null); older ones do not.
      expect(diff.filter((l) => !/^constraints: only in schema\.prisma: AuditEvent\.AuditEvent_actorName_not_null: NOT NULL "actorName"$/.test(l)), diff.join("\n")).toHaveLength(5);
    } finally {
      await scratch.drop();
    }
  });
});
