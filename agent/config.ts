// CLI flags and environment variables → validated agent configuration. Flags win over env vars.
import * as path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { BACKEND_NAMES } from "./backends/types";
import { splitCommand } from "./exec";
import { LOG_LEVELS } from "./log";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Each setting: its flag, its env var, and whether it is a boolean switch. */
const SETTINGS = {
  server: { flag: "server", env: "SPLICER_SERVER" },
  enrollToken: { flag: "enroll-token", env: "SPLICER_ENROLL_TOKEN" },
  stateDir: { flag: "state-dir", env: "SPLICER_STATE_DIR" },
  backend: { flag: "backend", env: "SPLICER_BACKEND" },
  sysfsRoot: { flag: "sysfs-root", env: "SPLICER_SYSFS_ROOT" },
  procRoot: { flag: "proc-root", env: "SPLICER_PROC_ROOT" },
  etcRoot: { flag: "etc-root", env: "SPLICER_ETC_ROOT" },
  heartbeatSec: { flag: "heartbeat-sec", env: "SPLICER_HEARTBEAT_SEC" },
  insmod: { flag: "insmod", env: "SPLICER_INSMOD" },
  rmmod: { flag: "rmmod", env: "SPLICER_RMMOD" },
  simulateApplyMs: { flag: "simulate-apply-ms", env: "SPLICER_SIMULATE_APPLY_MS" },
  simulateFailureRate: { flag: "simulate-failure-rate", env: "SPLICER_SIMULATE_FAILURE_RATE" },
  simulateFail: { flag: "simulate-fail", env: "SPLICER_SIMULATE_FAIL" },
  logLevel: { flag: "log-level", env: "SPLICER_LOG_LEVEL" },
} as const;
type SettingKey = keyof typeof SETTINGS;

// Relative paths are resolved against the working directory, once, so later chdirs cannot move them.
const absPath = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .transform((p) => path.resolve(p));

/** A command line (program and fixed arguments), checked to split into at least a program. */
const command = (fallback: string) =>
  z
    .string()
    .trim()
    .min(1, "must not be empty")
    .refine((c) => {
      try {
        return splitCommand(c).length > 0;
      } catch {
        return false;
      }
    }, "has an unbalanced quote")
    .default(fallback);

export const AgentConfigFileSchema = z.object({
  server: z
    .string({ error: "is required (the console's URL, e.g. https://splicer.example.com)" })
    .trim()
    .refine((s) => {
      try {
        const u = new URL(s);
        return (u.protocol === "http:" || u.protocol === "https:") && !u.search && !u.hash;
      } catch {
        return false;
      }
    }, "must be an http(s) URL without query or fragment, e.g. https://splicer.example.com")
    .transform((s) => s.replace(/\/+$/, "")),
  enrollToken: z.string().trim().min(8, "must be at least 8 characters").max(256, "must be at most 256 characters").optional(),
  stateDir: absPath("the state directory").default("/var/lib/splicer-agent"),
  backend: z.enum(BACKEND_NAMES, { error: `must be one of: ${BACKEND_NAMES.join(", ")}` }).default("livepatch"),
  sysfsRoot: absPath("the sysfs root").default("/sys"),
  procRoot: absPath("the proc root").default("/proc"),
  etcRoot: absPath("the etc root").default("/etc"),
  heartbeatSec: z.coerce
    .number({ error: "must be a number of seconds" })
    .int("must be a whole number of seconds")
    .min(1, "must be at least 1")
    .max(3600, "must be at most 3600")
    .optional(),
  logLevel: z.enum(LOG_LEVELS, { error: `must be one of: ${LOG_LEVELS.join(", ")}` }).default("info"),
  insmod: command("insmod"),
  rmmod: command("rmmod"),
  simulateApplyMs: z.coerce
    .number({ error: "must be a number of milliseconds" })
    .int("must be a whole number of milliseconds")
    .min(0, "must be at least 0")
    .max(3_600_000, "must be at most 3600000")
    .optional(),
  simulateFailureRate: z.coerce.number({ error: "must be a number from 0 to 1" }).min(0, "must be from 0 to 1").max(1, "must be from 0 to 1").optional(),
  simulateFail: z
    .enum(["none", "refused", "stall"], { error: "must be one of: none, refused, stall" })
    .optional(),
});
export type AgentCliConfig = z.infer<typeof AgentConfigFileSchema>;

/** `--reload-only` needs no console: everything but the server. */
export type ReloadConfig = Omit<AgentCliConfig, "server"> & { server?: string };
export type ParsedCli = { kind: "help" } | { kind: "version" } | { kind: "run"; config: AgentCliConfig } | { kind: "reload"; config: ReloadConfig };

export const USAGE = `Usage: splicer-agent --server URL [--enroll-token TOKEN] [options]

Reports this host's kernel and livepatch state to a Splicer console, and applies or reverts
livepatches when the console asks (jobs are kept in <state-dir>/jobs, modules in <state-dir>/modules).

Options (each also as an environment variable):
  --server URL            SPLICER_SERVER        console URL (required)
  --enroll-token TOKEN    SPLICER_ENROLL_TOKEN  one-time token; needed only until enrolled
  --state-dir DIR         SPLICER_STATE_DIR     credential storage (default /var/lib/splicer-agent)
  --backend NAME          SPLICER_BACKEND       livepatch (real kernel) or simulate (default livepatch)
  --sysfs-root DIR        SPLICER_SYSFS_ROOT    default /sys
  --proc-root DIR         SPLICER_PROC_ROOT     default /proc
  --etc-root DIR          SPLICER_ETC_ROOT      default /etc
  --heartbeat-sec N       SPLICER_HEARTBEAT_SEC override the console's heartbeat interval
  --insmod CMD            SPLICER_INSMOD        loads a livepatch module; its .ko path is appended (default insmod)
  --rmmod CMD             SPLICER_RMMOD         unloads a livepatch module; its name is appended (default rmmod)
  --log-level LEVEL       SPLICER_LOG_LEVEL     debug, info, warn, error, silent (default info)
  -h, --help                                    show this help
  --version                                     print the agent version
  --reload-only                                 load this boot's kept patches again, report, and exit
                                                (the early boot unit splicer-agent-reload.service; needs no console)

Simulate backend only (demos and tests):
  --simulate-apply-ms N         SPLICER_SIMULATE_APPLY_MS      time an apply takes (default 0)
  --simulate-failure-rate R     SPLICER_SIMULATE_FAILURE_RATE  chance 0..1 that an apply fails (default 0)
  --simulate-fail MODE          SPLICER_SIMULATE_FAIL          every apply fails: refused, stall (default none)

Exit codes: 0 stopped, 1 enrollment refused or fatal error, 2 bad configuration,
3 host revoked by the console (credential deleted; enroll again with a new token).
`;

export function parseCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedCli {
  const options = Object.fromEntries(
    Object.values(SETTINGS).map((s) => [s.flag, { type: "string" as const }]),
  ) as Record<string, { type: "string" }>;
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: "boolean", short: "h" }, version: { type: "boolean" }, "reload-only": { type: "boolean" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    // parseArgs' messages are already clear ("Unknown option '--x'"); drop its hint about "--".
    throw new ConfigError((err instanceof Error ? err.message : String(err)).split(". To specify a positional")[0]!);
  }
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };

  const raw: Partial<Record<SettingKey, string>> = {};
  for (const [key, s] of Object.entries(SETTINGS) as [SettingKey, (typeof SETTINGS)[SettingKey]][]) {
    const fromFlag = values[s.flag];
    const fromEnv = env[s.env];
    // An empty env var (e.g. `SPLICER_ENROLL_TOKEN=` in agent.env) means "not set".
    const v = typeof fromFlag === "string" ? fromFlag : fromEnv !== undefined && fromEnv !== "" ? fromEnv : undefined;
    if (v !== undefined) raw[key] = v;
  }
  const reloadOnly = values["reload-only"] === true;
  const parsed = (reloadOnly ? AgentConfigFileSchema.partial({ server: true }) : AgentConfigFileSchema).safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = issue.path[0] as SettingKey | undefined;
      const s = key ? SETTINGS[key] : undefined;
      return s ? `  --${s.flag} (${s.env}): ${issue.message}` : `  ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  return reloadOnly ? { kind: "reload", config: parsed.data } : { kind: "run", config: parsed.data as AgentCliConfig };
}
