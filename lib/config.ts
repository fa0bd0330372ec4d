import path from "node:path";
import { z } from "zod";

// Every setting the console reads from its environment, validated once at start.
const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000), // 0: any free port (tests)
  HOST: z.string().default("0.0.0.0"),
  DATABASE_URL: z.string().url("DATABASE_URL must be a postgresql:// URL").optional(),
  SPLICER_DATA_DIR: z.string().default(".data"),
  SPLICER_DEMO_AGENTS: z.coerce.number().int().min(0).max(20_000).default(50),
  SPLICER_ADMIN_PASSWORD: z.string().min(10, "SPLICER_ADMIN_PASSWORD needs at least 10 characters").optional(),
  SPLICER_PUBLIC_URL: z.string().url().optional(),
  // Backstop re-validation of live /ui sockets (a session expiring); revocations act at once anyway.
  SPLICER_UI_RECHECK_MS: z.coerce.number().int().min(500).max(3_600_000).default(30_000),
  // Behind a reverse proxy: take the client's address, host and scheme from X-Forwarded-*.
  SPLICER_TRUST_PROXY: z.enum(["0", "1"], "SPLICER_TRUST_PROXY is 1 (behind a reverse proxy) or 0").default("0").transform((v) => v === "1"),
  // Postgres connections per console process.
  SPLICER_DB_POOL: z.coerce.number().int().min(1).max(1000).default(20),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});
export type Env = z.infer<typeof EnvSchema>;

/**
 * The process environment, the one place it is read (scripts that start processes excepted). The
 * builders' settings (lib/builds/config.ts) parse their variables from it with their own schemas.
 */
export function rawEnv(): Readonly<Record<string, string | undefined>> {
  return process.env;
}

/** Every variable parsed and checked; a bad one throws naming it (the console does not start). */
export function loadEnv(env: Readonly<Record<string, string | undefined>> = rawEnv()): Env {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`bad configuration:\n${z.prettifyError(parsed.error)}`);
  }
  return { ...parsed.data, SPLICER_DATA_DIR: path.resolve(parsed.data.SPLICER_DATA_DIR) };
}

/**
 * The settings now. Parsed on each call, not cached: server.ts sets DATABASE_URL for the embedded
 * database before the first query, after modules that read settings were loaded.
 */
export const env = (): Env => loadEnv();

/** The console's data directory (signing key, artifacts, embedded database), absolute. */
export function dataDir(): string {
  // Not a build input: without the comment Turbopack traces the whole project from here, the data
  // directory's prepared kernel trees included (millions of files: next build ran out of memory).
  return path.resolve(/* turbopackIgnore: true */ rawEnv().SPLICER_DATA_DIR ?? ".data");
}
