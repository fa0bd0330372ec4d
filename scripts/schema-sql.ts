// Prints the SQL that builds prisma/schema.prisma from an empty database (Prisma 6's WebAssembly
// engine against a throwaway embedded PostgreSQL). Write a new migration by diffing this output
// against the previous one; test/integration/db/schema-matches.test.ts checks the result.
import { startEmbeddedPostgres } from "../lib/db/embedded";
import { schemaSqlFromEmpty } from "./lib/prisma6";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-schema-sql-"));
const db = await startEmbeddedPostgres({ dataDir, persistent: false });
try {
  // A throwaway cluster: its superuser, so Prisma may make whatever scratch databases it needs.
  process.stdout.write(await schemaSqlFromEmpty(db.superuserUrl));
} finally {
  await db.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
