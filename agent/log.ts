// A tiny structured logger: one JSON object per line on stderr. The agent is bundled into one
// file that runs on every host, so it carries no logging library.

export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogFields = Record<string, unknown>;
export type LogSink = (line: string) => void;

const stderrSink: LogSink = (line) => {
  process.stderr.write(line + "\n");
};

export class Logger {
  constructor(
    private readonly level: LogLevel = "info",
    private readonly fields: LogFields = {},
    private readonly sink: LogSink = stderrSink,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** A logger that adds `fields` to every line (e.g. the host of a simulated agent). */
  child(fields: LogFields): Logger {
    return new Logger(this.level, { ...this.fields, ...fields }, this.sink, this.now);
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= RANK[this.level] && level !== "silent";
  }

  debug(msg: string, fields?: LogFields): void {
    this.write("debug", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.write("info", msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.write("warn", msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.write("error", msg, fields);
  }

  private write(level: LogLevel, msg: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const line: LogFields = { time: this.now().toISOString(), level, msg, ...this.fields, ...fields };
    for (const [k, v] of Object.entries(line)) {
      // Errors stringify to {} by default; keep the message, which is what an operator needs.
      if (v instanceof Error) line[k] = { name: v.name, message: v.message };
    }
    this.sink(JSON.stringify(line));
  }
}

/** A logger that drops everything, for tests and the fleet simulator's quiet agents. */
export const silentLogger = new Logger("silent");

/** An error's message, with its cause's (fetch's "fetch failed" says nothing without it). */
export function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${err.message}: ${typeof code === "string" && !cause.message.includes(code) ? code + " " : ""}${cause.message}`;
  }
  return err.message;
}
