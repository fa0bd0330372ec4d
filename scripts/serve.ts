// npm run serve: the console without the demo fleet (production, tests). Uses DATABASE_URL when
// set, else the embedded database; see scripts/lib/run-console.ts.
import { runConsole } from "./lib/run-console";

await runConsole({ demo: false });
