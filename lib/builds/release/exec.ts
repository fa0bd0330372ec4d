import "server-only";
// Running the tools a preparation uses (apt, dpkg-deb, tar, make, readelf): no shell unless a
// pipeline needs one (then the arguments are positional parameters, never spliced into the script),
// killed as a process group on abort, failures turned into ReleasePreparationFailed with the tail
// of the output.
import { execFile } from "node:child_process";
import { BuildFailure } from "@/lib/builds/types";
import { formatMs, passedEnv, runProcess } from "@/lib/builds/builders/process";
import { ReleasePreparationFailed } from "./errors";

export interface StepContext {
  release: string;
  signal: AbortSignal;
  log: (line: string) => void;
}

export interface RunStepOptions {
  cwd: string;
  step: string;
  timeoutMs?: number;
  /** Stream the command's output to the log (make); otherwise it is kept for a failure message. */
  streamOutput?: boolean;
  env?: Record<string, string>;
}

const DEFAULT_TIMEOUT_MS = 30 * 60_000;

/** Runs a command to completion; throws ReleasePreparationFailed naming the step on failure. */
export async function runStep(ctx: StepContext, program: string, args: string[], o: RunStepOptions): Promise<void> {
  if (ctx.signal.aborted) throw aborted(o.step);
  const tail: string[] = [];
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const result = await runProcess(program, args, {
    cwd: o.cwd,
    env: { ...passedEnv(), LC_ALL: "C", ...o.env },
    signal: ctx.signal,
    timeoutMs,
    maxLogBytes: 256 * 1024,
    log: (line) => {
      if (o.streamOutput) ctx.log(line);
      tail.push(line);
      if (tail.length > 30) tail.shift();
    },
  });
  if (result.kind === "spawn-error") {
    throw new ReleasePreparationFailed(ctx.release, o.step, `${o.step}: cannot run ${program}: ${result.error.message}`, { cause: result.error });
  }
  if (result.kind === "aborted") throw aborted(o.step);
  if (result.kind === "timeout") throw new ReleasePreparationFailed(ctx.release, o.step, `${o.step}: ${program} timed out after ${formatMs(timeoutMs)}`);
  if (result.code !== 0 || result.signal) {
    const why = result.signal ? `killed by ${result.signal}` : `exited with status ${result.code}`;
    throw new ReleasePreparationFailed(ctx.release, o.step, `${o.step}: ${program} ${why}${tail.length ? `:\n${tail.join("\n")}` : ""}`);
  }
}

/** A shell pipeline (`set -o pipefail`), its inputs passed as "$1", "$2", … */
export function runPipeline(ctx: StepContext, script: string, params: string[], o: RunStepOptions): Promise<void> {
  return runShell(ctx, `set -euo pipefail; ${script}`, params, o);
}

/** A bash script that checks its own statuses; its inputs passed as "$1", "$2", … */
export function runShell(ctx: StepContext, script: string, params: string[], o: RunStepOptions): Promise<void> {
  return runStep(ctx, "bash", ["-c", script, "bash", ...params], o);
}

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a short command and returns its output (apt-cache, readelf); never throws on exit status. */
export function capture(program: string, args: string[], o: { signal: AbortSignal; cwd?: string; maxBuffer?: number }): Promise<Captured> {
  const env: Record<string, string> = { ...passedEnv(), LC_ALL: "C" };
  return new Promise((resolve, reject) => {
    execFile(
      program,
      args,
      { cwd: o.cwd, env: env as NodeJS.ProcessEnv, signal: o.signal, maxBuffer: o.maxBuffer ?? 512 * 1024 * 1024, encoding: "utf8" },
      (err, stdout, stderr) => {
        if (err && typeof (err as { code?: unknown }).code !== "number") {
          if (o.signal.aborted) reject(aborted(program));
          else reject(err);
          return;
        }
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

export function aborted(step: string): BuildFailure {
  return new BuildFailure(`preparing the kernel release was aborted (${step})`, "timeout");
}

/** Seconds with one decimal, for log lines and timings. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
