import crypto from "node:crypto";
import pg from "pg";
import { inject } from "vitest";

/**
 * A fresh, migrated database for one test file, cloned from the run's template and owned by the
 * console's role: `url` connects as that role (no superuser, as production), `superuserUrl` as
 * the cluster's superuser for what only a test may do.
 */
export async function createTestDatabase(): Promise<{
  url: string;
  superuserUrl: string;
  query: <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>;
  close(): Promise<void>;
}> {
  const template = new URL(inject("pgTemplateUrl"));
  const consoleRole = decodeURIComponent(new URL(inject("pgConsoleUrl")).username);
  const name = `t_${crypto.randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: Object.assign(new URL(template), { pathname: "/postgres" }).toString() });
  await admin.connect();
  try {
    await admin.query(`create database "${name}" template "splicer_template" owner "${consoleRole}"`);
  } finally {
    await admin.end();
  }
  const url = Object.assign(new URL(inject("pgConsoleUrl")), { pathname: `/${name}` }).toString();
  const superuserUrl = Object.assign(new URL(template), { pathname: `/${name}` }).toString();
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  return {
    url,
    superuserUrl,
    async query<T>(sql: string, params?: unknown[]) {
      return (await pool.query(sql, params)).rows as T[];
    },
    close: () => pool.end(),
  };
}
