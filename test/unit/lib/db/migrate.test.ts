import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { listMigrations, MIGRATIONS_DIR } from "@/lib/db/migrate";

describe("migrations on disk", () => {
  it("are every prisma/migrations/<name>/migration.sql, in name order, with Prisma's sha256 checksum", () => {
    const dirs = fs.readdirSync(MIGRATIONS_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    const ms = listMigrations();
    expect(ms.map((m) => m.name)).toEqual(dirs);
    for (const m of ms) {
      const sql = fs.readFileSync(path.join(MIGRATIONS_DIR, m.name, "migration.sql"));
      expect(m.checksum).toBe(crypto.createHash("sha256").update(sql).digest("hex"));
      expect(m.name).toMatch(/^\d{14}_[a-z0-9_]+$/);
    }
  });
});
