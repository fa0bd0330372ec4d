// The scripts' command lines: flags parsed strictly, --help prints the usage, and the values
// checked by a zod schema whose keys are the flags in camelCase, so that a bad value is reported
// under the flag as it was typed.
import { parseArgs } from "node:util";
import type { z } from "zod";

type FlagValues = Record<string, string | boolean | undefined>;

export function parseFlags<S extends z.ZodType>(o: {
  /** The script's name, to start its error messages with. */
  name: string;
  usage: string;
  options: Record<string, { type: "string" | "boolean"; short?: string }>;
  schema: S;
  /** The schema's input from the flags (and whatever defaults the script takes from elsewhere). */
  input: (values: FlagValues) => Record<string, unknown>;
}): z.infer<S> {
  const { values } = parseArgs({ options: { ...o.options, help: { type: "boolean", short: "h" } }, strict: true });
  if (values.help) {
    process.stdout.write(o.usage);
    process.exit(0);
  }
  const r = o.schema.safeParse(o.input(values as FlagValues));
  if (!r.success) {
    const flag = (k: PropertyKey) => `--${String(k).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    process.stderr.write(`${o.name}: invalid arguments:\n${r.error.issues.map((i) => `  ${flag(i.path[0] ?? "")}: ${i.message}`).join("\n")}\n\n${o.usage}`);
    process.exit(2);
  }
  return r.data;
}
