import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";

/**
 * Applies prisma/migrations/<name>/migration.sql in order, recording each in Prisma's own
 * `_prisma_migrations` table with the same checksum Prisma computes (sha256 of the file), so
 * `prisma migrate deploy` sees them as applied where Prisma's native engine is available.
 * Prisma 7's CLI needs that engine, which cannot be downloaded here (see ENVIRONMENT.md).
 */
export const MIGRATIONS_DIR = path.resolve(import.meta.dirname, "../../prisma/migrations");

// Same table Prisma creates (schema-engine/connectors/sql-schema-connector, postgres flavour).
const CREATE_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

// Any fixed number: serialises concurrent starts of several console processes.
const LOCK_KEY = 72707369;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: crypto.createHash("sha256").update(sql).digest("hex") };
    });
}

export async function migrate(opts: { url: string; dir?: string; log?: (msg: string) => void }): Promise<string[]> {
  const client = new pg.Client({ connectionString: opts.url });
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query("select pg_advisory_lock($1)", [LOCK_KEY]);
    await client.query(CREATE_TABLE);
    const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
      `select migration_name, checksum, finished_at from "_prisma_migrations" where rolled_back_at is null`,
    );
    const done = new Map(rows.map((r) => [r.migration_name, r]));
    for (const m of listMigrations(opts.dir)) {
      const prior = done.get(m.name);
      if (prior?.finished_at) {
        if (prior.checksum !== m.checksum) {
          throw new MigrationError(`migration ${m.name} was edited after it was applied (checksum differs)`);
        }
        continue;
      }
      if (prior) throw new MigrationError(`migration ${m.name} failed earlier; fix the database and mark it rolled back`);
      const id = crypto.randomUUID();
      // The migration and its record commit together: a crash leaves neither.
      await client.query("begin");
      try {
        await client.query(
          `insert into "_prisma_migrations" (id, checksum, migration_name, started_at) values ($1, $2, $3, now())`,
          [id, m.checksum, m.name],
        );
        await client.query(m.sql);
        await client.query(
          `update "_prisma_migrations" set finished_at = now(), applied_steps_count = 1 where id = $1`,
          [id],
        );
        await client.query("commit");
      } catch (err) {
        await client.query("rollback");
        throw new MigrationError(`migration ${m.name} failed: ${(err as Error).message}`);
      }
      opts.log?.(`applied migration ${m.name}`);
      applied.push(m.name);
    }
  } finally {
    await client.query("select pg_advisory_unlock($1)", [LOCK_KEY]).catch(() => {});
    await client.end();
  }
  return applied;
}

/**
 * Migrations this code has that the database lacks (none: the schema is what the code expects).
 * For processes that use a console's database but never change its schema (build workers).
 */
export async function missingMigrations(opts: { url: string; dir?: string }): Promise<string[]> {
  const client = new pg.Client({ connectionString: opts.url });
  await client.connect();
  try {
    const { rows: exists } = await client.query<{ t: string | null }>(`select to_regclass('"_prisma_migrations"')::text as t`);
    const applied = new Set<string>();
    if (exists[0]?.t) {
      const { rows } = await client.query<{ migration_name: string }>(`select migration_name from "_prisma_migrations" where finished_at is not null and rolled_back_at is null`);
      for (const r of rows) applied.add(r.migration_name);
    }
    return listMigrations(opts.dir)
      .map((m) => m.name)
      .filter((n) => !applied.has(n));
  } finally {
    await client.end().catch(() => {});
  }
}
