import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { BuilderEnvSchema, loadBuilderConfig, type BuilderConfig } from "./builders";
import { rawEnv } from "@/lib/config";

// How a process runs builds, from its environment, parsed once at its start. Two kinds of
// process run builds: a console (in-process workers, SPLICER_BUILD_WORKERS of them; 0 = none,
// builds wait for build workers) and `npm run build-worker` (scripts/build-worker.ts), which may
// live on another machine and only needs the console's database.
//
//   SPLICER_BUILD_WORKERS         console: builds it runs at once itself (default 2; 0 = none)
//   SPLICER_BUILD_CONCURRENCY     build worker: builds it runs at once (default 1)
//   DATABASE_URL                  build worker: required, the console's PostgreSQL
//   SPLICER_DATA_DIR              build worker: its own cache of prepared releases (default .data)
//   SPLICER_BUILD_WORKER_NAME     the name builds' logs and the console show (default host/pid)
//   SPLICER_BUILD_LEASE_SEC       a worker silent this long is taken for dead, its builds run again (30)
//   SPLICER_BUILD_STOP_GRACE_SEC  on SIGTERM: how long running builds may finish before they are
//                                 handed back to the queue (worker default 60, console at most 10)
//   SPLICER_BUILD_TIMEOUT_SEC     a build is failed after this long (1800); and the builder's own
//                                 settings, lib/builds/builders/index.ts

const blankToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const seconds = (min: number, max: number, dflt: number) => z.preprocess(blankToUndefined, z.coerce.number().min(min).max(max).default(dflt));
const count = (min: number, max: number, dflt: number) => z.preprocess(blankToUndefined, z.coerce.number().int().min(min).max(max).default(dflt));

const RunEnvSchema = z.object({
  SPLICER_BUILD_LEASE_SEC: seconds(1, 3600, 30),
  SPLICER_BUILD_TIMEOUT_SEC: BuilderEnvSchema.shape.SPLICER_BUILD_TIMEOUT_SEC,
  SPLICER_BUILD_STOP_GRACE_SEC: seconds(0, 3600, 60),
  SPLICER_BUILD_WORKER_NAME: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .max(100)
      .regex(/^[\w.:@/+-]+$/, "SPLICER_BUILD_WORKER_NAME: letters, digits and . : @ / + - _ only")
      .optional(),
  ),
});

const ConsoleEnvSchema = RunEnvSchema.extend({
  SPLICER_BUILD_WORKERS: count(0, 64, 2),
});

const WorkerEnvSchema = RunEnvSchema.extend({
  DATABASE_URL: z.preprocess(
    blankToUndefined,
    z
      .string({ error: "DATABASE_URL is required: the console's PostgreSQL (postgresql://…); a build worker never starts a database of its own" })
      .regex(/^postgres(ql)?:\/\//, "DATABASE_URL must be a postgresql:// URL"),
  ),
  SPLICER_DATA_DIR: z.preprocess(blankToUndefined, z.string().default(".data")),
  SPLICER_BUILD_CONCURRENCY: count(1, 64, 1),
});

/** What every process that runs builds needs. */
export interface BuildRunSettings {
  /** How long a claim on a build lasts without renewal (renewed every third of it); also the heartbeat's horizon. */
  leaseMs: number;
  timeoutMs: number;
  /** On shutdown, how long running builds may go on before they are handed back. */
  stopGraceMs: number;
  /** The worker's name in logs and on the console. */
  workerName: string;
}

export interface ConsoleBuildConfig {
  /** Builds the console runs at once itself; 0: none (build workers do). */
  workers: number;
  run: BuildRunSettings;
  /** The builder, when the console builds (workers > 0); a console that does not build needs no builder settings. */
  builder: BuilderConfig | null;
}

export interface BuildWorkerConfig {
  databaseUrl: string;
  /** The worker's own data dir: its cache of prepared kernel releases. */
  dataDir: string;
  concurrency: number;
  run: BuildRunSettings;
  builder: BuilderConfig;
}

/** On a console, running builds stop sooner: the console's whole shutdown has 20 s. */
export const CONSOLE_STOP_GRACE_MS = 10_000;

function parse<T extends z.ZodType>(schema: T, env: Record<string, string | undefined>, what: string): { data?: z.infer<T>; problems: string[] } {
  const parsed = schema.safeParse(env);
  return parsed.success ? { data: parsed.data, problems: [] } : { problems: [`bad ${what}:\n${z.prettifyError(parsed.error)}`] };
}

function builderOrProblem(env: Record<string, string | undefined>): { builder?: BuilderConfig; problems: string[] } {
  try {
    return { builder: loadBuilderConfig(env), problems: [] };
  } catch (err) {
    return { problems: [(err as Error).message] };
  }
}

function runSettings(e: z.infer<typeof RunEnvSchema>, kind: "console" | "worker", hostname: string, pid: number): BuildRunSettings {
  const grace = e.SPLICER_BUILD_STOP_GRACE_SEC * 1000;
  return {
    leaseMs: Math.round(e.SPLICER_BUILD_LEASE_SEC * 1000),
    timeoutMs: Math.round(e.SPLICER_BUILD_TIMEOUT_SEC * 1000),
    stopGraceMs: kind === "console" ? Math.min(grace, CONSOLE_STOP_GRACE_MS) : grace,
    workerName: e.SPLICER_BUILD_WORKER_NAME ?? `${kind === "console" ? "console:" : ""}${hostname}/${pid}`,
  };
}

/** A console's build settings; throws one error naming every bad setting. */
export function loadConsoleBuildConfig(env: Readonly<Record<string, string | undefined>> = rawEnv(), who = { hostname: os.hostname(), pid: process.pid }): ConsoleBuildConfig {
  const own = parse(ConsoleEnvSchema, env, "build configuration");
  // A console that runs no builds does not read the builder's settings: they belong to the workers.
  const wantsBuilder = own.data ? own.data.SPLICER_BUILD_WORKERS > 0 : true;
  const b = wantsBuilder ? builderOrProblem(env) : { problems: [] as string[] };
  const problems = [...own.problems, ...b.problems];
  if (problems.length || !own.data) throw new Error(problems.join("\n"));
  return { workers: own.data.SPLICER_BUILD_WORKERS, run: runSettings(own.data, "console", who.hostname, who.pid), builder: wantsBuilder ? b.builder! : null };
}

/** A build worker's settings (scripts/build-worker.ts); throws one error naming every bad setting. */
export function loadBuildWorkerConfig(env: Readonly<Record<string, string | undefined>> = rawEnv(), who = { hostname: os.hostname(), pid: process.pid }): BuildWorkerConfig {
  const own = parse(WorkerEnvSchema, env, "build worker configuration");
  const b = builderOrProblem(env);
  const problems = [...own.problems, ...b.problems];
  if (problems.length || !own.data) throw new Error(problems.join("\n"));
  return {
    databaseUrl: own.data.DATABASE_URL,
    dataDir: path.resolve(own.data.SPLICER_DATA_DIR),
    concurrency: own.data.SPLICER_BUILD_CONCURRENCY,
    run: runSettings(own.data, "worker", who.hostname, who.pid),
    builder: b.builder!,
  };
}
