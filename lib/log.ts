import pino from "pino";

// One structured logger per process. LOG_LEVEL=debug for more; tests set it to "warn".
const g = globalThis as unknown as { __splicerLog?: pino.Logger };
export const log: pino.Logger = (g.__splicerLog ??= pino({
  level: process.env.LOG_LEVEL ?? "info",
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
}));
