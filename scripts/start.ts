// npm start: see scripts/lib/run-console.ts.
import { runConsole } from "./lib/run-console";

await runConsole({ demo: true });
