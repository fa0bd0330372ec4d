// The migration that makes API tokens always expire (issue 9, item 7), applied to a database that
// already holds tokens without an expiry and tokens of a disabled operator.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { MIGRATIONS_DIR, migrate } from "../../../lib/db/migrate";

const MINE = "20261201000300_auth_hardening";
const server = new URL(inject("pgTemplateUrl"));
const name = `mig_${crypto.randomBytes(6).toString("hex")}`;
const adminUrl = Object.assign(new URL(server), { pathname: "/postgres" }).toString();
const url = Object.assign(new URL(server), { pathname: `/${name}` }).toString();
let db: pg.Client;

async function onAdmin(sql: string) {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  await c.query(sql).finally(() => c.end());
}

beforeAll(async () => {
  await onAdmin(`create database "${name}" template template0`);
  // Every migration before this one, as a deployment from before it has them.
  const before = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-migrations-"));
  for (const m of fs.readdirSync(MIGRATIONS_DIR)) {
    if (m < MINE && fs.statSync(path.join(MIGRATIONS_DIR, m)).isDirectory()) fs.cpSync(path.join(MIGRATIONS_DIR, m), path.join(before, m), { recursive: true });
  }
  await migrate({ url, dir: before });
  db = new pg.Client({ connectionString: url });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await onAdmin(`drop database if exists "${name}" with (force)`);
});

describe(`migration ${MINE}`, () => {
  it("revokes disabled operators' tokens and gives tokens without an expiry 90 days", async () => {
    const op = async (username: string, disabled: boolean) =>
      (await db.query<{ id: string }>(`insert into "Operator" (id, username, "passwordHash", role, "disabledAt") values (gen_random_uuid(), $1, 'x', 'admin', $2) returning id`, [username, disabled ? new Date() : null])).rows[0].id;
    const token = async (creator: string, tokenName: string, expiresAt: Date | null) =>
      (await db.query<{ id: string }>(`insert into "ApiToken" (id, name, prefix, "tokenHash", role, "createdById", "expiresAt") values (gen_random_uuid(), $1, 'p', $2, 'admin', $3, $4) returning id`, [tokenName, crypto.randomUUID(), creator, expiresAt])).rows[0].id;
    const active = await op("active", false);
    const gone = await op("gone", true);
    const inAWeek = new Date(Date.now() + 7 * 86400_000);
    const never = await token(active, "never", null);
    const week = await token(active, "week", inAWeek);
    const orphan = await token(gone, "orphan", null);

    await migrate({ url });

    const rows = new Map((await db.query<{ id: string; expiresAt: Date; revokedAt: Date | null }>(`select id, "expiresAt", "revokedAt" from "ApiToken"`)).rows.map((r) => [r.id, r]));
    const days = (d: Date) => (d.getTime() - Date.now()) / 86400_000;
    expect(days(rows.get(never)!.expiresAt)).toBeGreaterThan(89.9);
    expect(days(rows.get(never)!.expiresAt)).toBeLessThanOrEqual(90);
    expect(rows.get(never)!.revokedAt).toBeNull();
    expect(rows.get(week)!.expiresAt.getTime()).toBe(inAWeek.getTime());
    expect(rows.get(orphan)!.revokedAt).not.toBeNull();
    await expect(db.query(`insert into "ApiToken" (id, name, prefix, "tokenHash", role, "createdById") values (gen_random_uuid(), 'x', 'p', 'h', 'viewer', $1)`, [active])).rejects.toThrow(/expiresAt/);
  });
});
