// npm run audit:verify — recomputes the audit log's hash chain and says whether anyone changed,
// removed or reordered an event since it was written.
//
// Database: DATABASE_URL when set. Otherwise the embedded PostgreSQL under $SPLICER_DATA_DIR/pg
// (default .data/pg), the one `npm start` uses: its port is chosen at each start, so when the
// console is running we read the port from PostgreSQL's own postmaster.pid, and when it is not
// we start that cluster ourselves for the check and stop it again.
//
// Exit status: 0 chain intact, 1 chain broken, 2 could not check.
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { verifyAuditChain } from "@/lib/audit/verify";
import { disconnectPrisma } from "@/lib/db/client";
import { embeddedConsoleUrl, startEmbeddedPostgres, type EmbeddedDatabase } from "@/lib/db/embedded";

// The database startEmbeddedPostgres gives the console's cluster (lib/db/embedded.ts).
const EMBEDDED_DATABASE = "splicer";

/** A reason the check could not run at all (exit 2), as opposed to a broken chain (exit 1). */
class CannotCheck extends Error {}

/** The port of a live postmaster on dataDir, from line 4 of postmaster.pid; null when none runs. */
function runningPostmasterPort(dataDir: string): number | null {
  let lines: string[];
  try {
    lines = fs.readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n");
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || port <= 0) return null;
  try {
    process.kill(pid, 0);
  } catch {
    return null; // left behind by a crash
  }
  return port;
}

async function resolveDatabase(): Promise<{ url: string; describe: string; embedded: EmbeddedDatabase | null }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, describe: "DATABASE_URL", embedded: null };
  const dataDir = path.join(path.resolve(process.env.SPLICER_DATA_DIR ?? ".data"), "pg");
  if (!fs.existsSync(path.join(dataDir, "PG_VERSION"))) {
    throw new CannotCheck(`no DATABASE_URL and no embedded database in ${dataDir}; set DATABASE_URL=postgresql://… or run this from the directory where \`npm start\` ran`);
  }
  const port = runningPostmasterPort(dataDir);
  if (port !== null) {
    return {
      // As the console's role, with the password derived from the data dir's secret.
      url: embeddedConsoleUrl({ dataDir, port, database: EMBEDDED_DATABASE }),
      describe: `embedded PostgreSQL in ${dataDir} (running, port ${port})`,
      embedded: null,
    };
  }
  console.error(`audit:verify: starting the embedded PostgreSQL in ${dataDir} for this check…`);
  const embedded = await startEmbeddedPostgres({ dataDir, persistent: true, database: EMBEDDED_DATABASE });
  return { url: embedded.url, describe: `embedded PostgreSQL in ${dataDir}`, embedded };
}

async function main(): Promise<number> {
  const db = await resolveDatabase();
  try {
    // A clear message for the common mistakes (wrong URL, unmigrated database) instead of a Prisma stack.
    const probe = new pg.Client({ connectionString: db.url });
    try {
      await probe.connect();
      const { rows } = await probe.query<{ t: string | null }>(`select to_regclass('"AuditEvent"')::text as t`);
      if (!rows[0]?.t) throw new CannotCheck(`${db.describe} has no "AuditEvent" table: is it Splicer's database, and has the console started on it once?`);
    } catch (err) {
      throw err instanceof CannotCheck ? err : new CannotCheck(`cannot reach ${db.describe}: ${(err as Error).message}`);
    } finally {
      await probe.end().catch(() => {});
    }
    process.env.DATABASE_URL = db.url;
    const started = Date.now();
    const result = await verifyAuditChain();
    const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
    if (result.ok) {
      console.log(`audit chain OK: ${result.checked} events (${took})`);
      return 0;
    }
    console.log(`audit chain BROKEN at seq ${result.firstBadSeq}: ${result.reason} (${result.checked} events before it are intact)`);
    return 1;
  } finally {
    await disconnectPrisma().catch(() => {});
    await db.embedded?.stop().catch((err) => console.error(`audit:verify: stopping the embedded database: ${(err as Error).message}`));
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`audit:verify: ${err instanceof CannotCheck ? err.message : ((err as Error).stack ?? String(err))}`);
    process.exit(2);
  },
);
