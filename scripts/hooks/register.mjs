// `import "server-only"` marks lib/ modules as server code for Next's bundler. Outside Next
// (server.ts, scripts) that package throws by design, so resolve it to an empty module there.
import { register } from "node:module";

register(
  "data:text/javascript," +
    encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier === "server-only") return { url: "data:text/javascript,", shortCircuit: true };
  return next(specifier, context);
}`),
);
