import pino from "pino";
import { rawEnv } from "@/lib/config";

// One structured logger per process. LOG_LEVEL=debug for more; tests set it to "warn".
const g = globalThis as unknown as { __splicerLog?: pino.Logger };
export const log: pino.Logger = (g.__splicerLog ??= pino({
  // Read raw: the logger exists before the start checks the settings (loadEnv names a bad LOG_LEVEL).
  level: rawEnv().LOG_LEVEL ?? "info",
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
}));
