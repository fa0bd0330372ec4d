// Starts `npm run build-worker` (scripts/build-worker.ts) as a real process against a test database.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "./console";

export interface BuildWorkerProcess {
  name: string;
  /** The worker's id (BuildWorker.id), once ready. */
  id: string;
  dataDir: string;
  proc: ChildProcess;
  output(): string;
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal to the worker (and, when started through npm, to npm and its shell too). */
  signal(sig: NodeJS.Signals): void;
  /** SIGKILL: no goodbye, no hand-back. */
  kill(): Promise<void>;
}

/**
 * `viaNpm`: through `npm run build-worker` as a person types it, in its own process group that
 * signals reach as a terminal's Ctrl-C does (npm, and the worker, which then also gets npm's
 * forwarded copy); otherwise node itself, as npm's script runs it, so that SIGKILL reaches the worker.
 */
export async function startBuildWorkerProcess(opts: {
  databaseUrl?: string;
  name: string;
  env?: Record<string, string>;
  viaNpm?: boolean;
  /** Resolve when the process exits instead of waiting for it to be ready (for refusals). */
  expectExit?: boolean;
}): Promise<BuildWorkerProcess> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `splicer-worker-${opts.name}-`));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SPLICER_DATA_DIR: dataDir,
    SPLICER_BUILD_WORKER_NAME: opts.name,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
    ...opts.env,
  };
  if (opts.databaseUrl) env.DATABASE_URL = opts.databaseUrl;
  else delete env.DATABASE_URL;
  const proc = opts.viaNpm
    ? // bash, as in the Dockerfile: it execs the script's one command, so npm's exit is the worker's.
      spawn("npm", ["run", "--silent", "build-worker"], { cwd: ROOT, env: { npm_config_script_shell: "/bin/bash", ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true })
    : spawn(process.execPath, ["--import", "tsx", "--import", "./scripts/hooks/register.mjs", "scripts/build-worker.ts"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const log: string[] = [];
  proc.stdout!.on("data", (d) => log.push(d.toString()));
  proc.stderr!.on("data", (d) => log.push(d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.once("exit", (code, signal) => r({ code, signal })));
  const output = () => log.join("");
  let id = "";
  if (!opts.expectExit) {
    id = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`build worker ${opts.name} did not start in 60 s:\n${output()}`)), 60_000);
      const check = () => {
        const m = output().match(/SPLICER_BUILD_WORKER_READY \S+ ([0-9a-f-]{36})/);
        if (m) {
          clearTimeout(t);
          resolve(m[1]);
        }
      };
      proc.stdout!.on("data", check);
      void exit.then(({ code }) => {
        clearTimeout(t);
        reject(new Error(`build worker ${opts.name} exited with ${code} before it was ready:\n${output()}`));
      });
    });
  } else {
    await exit;
  }
  const signal = (sig: NodeJS.Signals) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    if (opts.viaNpm) process.kill(-proc.pid!, sig);
    else proc.kill(sig);
  };
  return {
    name: opts.name,
    id,
    dataDir,
    proc,
    output,
    exited: () => exit,
    signal,
    async kill() {
      signal("SIGKILL");
      await exit;
    },
  };
}
