// npm run audit:verify — recomputes the audit log's hash chain and says whether anyone changed,
// removed or reordered an event since it was written, checking it against the anchors kept
// outside the database in the data dir ($SPLICER_DATA_DIR, default .data): the audit key (every
// event's MAC) and the signed checkpoints of the chain's head (lib/audit/anchor.ts).
//
//   npm run audit:verify                          check the log
//   npm run audit:verify -- --checkpoint          also print the newest signed checkpoint, one
//                                                 line to keep elsewhere (a ticket, syslog)
//   npm run audit:verify -- --against FILE        also check checkpoint lines kept elsewhere
//
// Database: DATABASE_URL when set. Otherwise the embedded PostgreSQL under $SPLICER_DATA_DIR/pg
// (default .data/pg), the one `npm start` uses: its port is chosen at each start, so when the
// console is running we read the port from PostgreSQL's own postmaster.pid, and when it is not
// we start that cluster ourselves for the check and stop it again.
//
// Exit status: 0 chain intact, 1 chain broken (or a checkpoint forged), 2 could not check.
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

/** Where the console keeps its audit key and checkpoints (and, when embedded, its database). */
function consoleDataDir(): string {
  return path.resolve(process.env.SPLICER_DATA_DIR ?? ".data");
}

function readAgainst(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new CannotCheck(`cannot read ${file}: ${(err as Error).message}`);
  }
}

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

function parseArgs(argv: string[]): { printCheckpoint: boolean; against: string | null } {
  const out = { printCheckpoint: false, against: null as string | null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--checkpoint") out.printCheckpoint = true;
    else if (argv[i] === "--against" && argv[i + 1]) out.against = argv[++i];
    else throw new CannotCheck(`unknown argument ${argv[i]} (expected --checkpoint or --against FILE)`);
  }
  return out;
}

async function resolveDatabase(): Promise<{ url: string; describe: string; embedded: EmbeddedDatabase | null }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, describe: "DATABASE_URL", embedded: null };
  const dataDir = path.join(consoleDataDir(), "pg");
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
  const args = parseArgs(process.argv.slice(2));
  const extraCheckpoints = args.against ? readAgainst(args.against) : undefined;
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
    const result = await verifyAuditChain({ dataDir: consoleDataDir(), extraCheckpoints });
    const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
    const { anchor } = result;
    console.error(`audit:verify: anchors from the data dir ${consoleDataDir()}`);
    const anchored = anchor.latest ? `; newest checkpoint at seq ${anchor.latest.seq}, ${anchor.latest.at}` : "";
    if (anchor.unreadableLines.length > 0) console.error(`audit:verify: ignored unreadable line ${anchor.unreadableLines.join(", ")} of ${anchor.checkpointFile}`);
    if (result.ok) {
      console.log(`audit chain OK: ${result.checked} events, ${anchor.checkpoints} checkpoints${anchored} (${took})`);
    } else if (result.problem === "key_missing") {
      throw new CannotCheck(result.reason ?? "no audit key");
    } else if (result.firstBadSeq) {
      console.log(`audit chain BROKEN at seq ${result.firstBadSeq}: ${result.reason} (${result.checked} events before it are intact)`);
    } else {
      console.log(`audit chain BROKEN: ${result.reason} (${result.checked} events checked)`);
    }
    if (args.printCheckpoint && anchor.latest) {
      const { seq, hash, at, mac } = anchor.latest;
      console.log(JSON.stringify({ seq, hash, at, mac }));
    }
    return result.ok ? 0 : 1;
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
