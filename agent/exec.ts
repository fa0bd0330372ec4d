// Runs an external command (insmod, rmmod) with a timeout and captures what it says: the kernel's
// refusal reaches the operator only through the command's stderr.
import { spawn } from "node:child_process";

export interface CommandResult {
  /** Exit code; null when killed (timeout, abort) or not started. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Set when the program could not be started at all (ENOENT, EACCES). */
  spawnError?: string;
}

export interface RunCommandOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Injectable so tests can count calls or fake a program; the default spawns the real one. */
export type CommandRunner = (argv: readonly string[], opts: RunCommandOptions) => Promise<CommandResult>;

/** Keep at most this much of each stream: a chatty program must not fill the agent's memory. */
const MAX_OUTPUT_CHARS = 16_384;

export const spawnCommand: CommandRunner = (argv, opts) =>
  new Promise((resolve) => {
    const [file, ...args] = argv;
    if (!file) return resolve({ code: null, stdout: "", stderr: "", timedOut: false, spawnError: "empty command" });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let settled = false;
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"], signal: opts.signal });
    const append = (acc: string, chunk: Buffer) => (acc.length >= MAX_OUTPUT_CHARS ? acc : (acc + chunk.toString("utf8")).slice(0, MAX_OUTPUT_CHARS));
    child.stdout.on("data", (c: Buffer) => (stdout = append(stdout, c)));
    child.stderr.on("data", (c: Buffer) => (stderr = append(stderr, c)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs);
    const done = (r: Omit<CommandResult, "stdout" | "stderr" | "timedOut">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, stdout, stderr, timedOut });
    };
    child.on("error", (err: NodeJS.ErrnoException) => {
      // An abort also arrives here; the process is already being killed.
      if (err.name === "AbortError") return;
      done({ code: null, spawnError: `${file}: ${err.code === "ENOENT" ? "command not found" : err.message}` });
    });
    child.on("close", (code) => done({ code }));
  });

/**
 * Splits a configured command ("insmod", "/usr/sbin/insmod -f", "'/opt/my tools/insmod'") into
 * argv, shell-like: whitespace separates, single and double quotes group, no expansion.
 */
export function splitCommand(command: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote: '"' | "'" | null = null;
  let started = false;
  for (const ch of command) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      started = true;
    } else if (/\s/.test(ch)) {
      if (started) out.push(cur);
      cur = "";
      started = false;
    } else {
      cur += ch;
      started = true;
    }
  }
  if (quote) throw new Error(`unbalanced ${quote} in command: ${command}`);
  if (started) out.push(cur);
  return out;
}

/** "exit 1: insmod: ERROR: …" — what a failed command said, on one line. */
export function describeFailure(r: CommandResult): string {
  if (r.spawnError) return r.spawnError;
  const said = (r.stderr.trim() || r.stdout.trim()).split(/\r?\n/).join("; ");
  const how = r.timedOut ? "timed out" : r.code === null ? "was killed" : `exit ${r.code}`;
  return said ? `${said} (${how})` : how;
}
