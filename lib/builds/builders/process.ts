import "server-only";
import { spawn } from "node:child_process";
import { rawEnv } from "@/lib/config";

// Running a builder's child process: its own process group (killed as a whole on timeout, abort
// or exit), no shell, stdout and stderr streamed to the build log line by line under a byte cap.
// Shared by the `command` and `kbuild` builders.

const MAX_LINE_CHARS = 4096;
const TAIL_LINES = 20;

/** Environment variables a build child may inherit (the console's own environment holds secrets). */
export const PASS_ENV = /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LC_[A-Z_]+|TZ|TMPDIR|KPATCH_[A-Z0-9_]+|CCACHE_[A-Z0-9_]+)$/;

/** The variables of process.env that PASS_ENV lets through. */
export function passedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(rawEnv())) if (v !== undefined && PASS_ENV.test(k)) env[k] = v;
  return env;
}

export type RunResult =
  | { kind: "exit"; code: number | null; signal: NodeJS.Signals | null; tail: string[] }
  | { kind: "timeout" }
  | { kind: "aborted" }
  | { kind: "spawn-error"; error: Error };

export interface RunOptions {
  cwd: string;
  env: Record<string, string>;
  signal: AbortSignal;
  timeoutMs: number;
  maxLogBytes: number;
  log: (line: string) => void;
}

export function runProcess(program: string, args: string[], o: RunOptions): Promise<RunResult> {
  return new Promise<RunResult>((resolve) => {
    const child = spawn(program, args, { cwd: o.cwd, env: o.env as NodeJS.ProcessEnv, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const lines = new LineLog(o.maxLogBytes, o.log);
    let stopped: "timeout" | "aborted" | undefined;
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let done = false;
    let openStreams = 2;

    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // ESRCH: the group is already gone.
      }
    };
    const finish = (r: RunResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      o.signal.removeEventListener("abort", onAbort);
      resolve(r);
    };
    const settle = () => {
      if (!exited || openStreams > 0) return;
      lines.flush();
      if (stopped) finish({ kind: stopped });
      else finish({ kind: "exit", ...exited, tail: lines.tail });
    };
    const stop = (why: "timeout" | "aborted") => {
      if (stopped || exited) return;
      stopped = why;
      o.log(why === "timeout" ? `build timed out after ${formatMs(o.timeoutMs)}: killing the build` : "build aborted: killing the build");
      killGroup();
    };
    const onAbort = () => stop("aborted");
    const timer = setTimeout(() => stop("timeout"), o.timeoutMs);
    let drainTimer: NodeJS.Timeout | undefined;
    o.signal.addEventListener("abort", onAbort, { once: true });

    child.on("error", (error) => {
      // spawn failed (ENOENT, EACCES): no process ran.
      if (child.pid === undefined) finish({ kind: "spawn-error", error });
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream.on("data", (chunk: Buffer) => lines.write(stream === child.stdout ? 0 : 1, chunk));
      stream.on("close", () => {
        openStreams--;
        settle();
      });
    }
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      // Whatever the builder left running in its process group goes with it.
      killGroup();
      // A descendant that left the group could hold the pipes open: stop waiting for them.
      drainTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        openStreams = 0;
        settle();
      }, 2000);
      drainTimer.unref();
      settle();
    });
  });
}

/** Splits output into lines, streams them to the log up to a byte cap, keeps the last lines. */
class LineLog {
  readonly tail: string[] = [];
  private partial: [string, string] = ["", ""];
  private bytes = 0;
  private truncated = false;
  private readonly decoders = [new TextDecoder(), new TextDecoder()];

  constructor(
    private readonly max: number,
    private readonly log: (line: string) => void,
  ) {}

  write(stream: 0 | 1, chunk: Buffer) {
    const text = this.partial[stream] + this.decoders[stream]!.decode(chunk, { stream: true });
    const parts = text.split(/\r?\n|\r/);
    this.partial[stream] = parts.pop() ?? "";
    for (const line of parts) this.line(line);
    if (this.partial[stream].length > MAX_LINE_CHARS) {
      this.line(this.partial[stream]);
      this.partial[stream] = "";
    }
  }

  flush() {
    for (const s of [0, 1] as const) {
      const rest = this.partial[s] + this.decoders[s]!.decode();
      this.partial[s] = "";
      if (rest) this.line(rest);
    }
  }

  private line(raw: string) {
    const line = raw.length > MAX_LINE_CHARS ? `${raw.slice(0, MAX_LINE_CHARS)}… [line truncated]` : raw;
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    if (this.truncated) return;
    const size = Buffer.byteLength(line) + 1;
    if (this.bytes + size > this.max) {
      this.truncated = true;
      this.log(`[build log truncated: output beyond ${this.max} bytes not shown]`);
      return;
    }
    this.bytes += size;
    this.log(line);
  }
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}
