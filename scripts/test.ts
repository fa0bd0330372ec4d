// npm test: everything CI runs, in order. Builds first (Prisma client, Next production build,
// agent bundle) because the integration and browser tests run the real console and agents.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const bin = (n: string) => path.join(root, "node_modules/.bin", n);
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };

function step(name: string, cmd: string, args: string[]): void {
  const t = Date.now();
  console.log(`\n▶ ${name}`);
  execFileSync(cmd, args, { cwd: root, stdio: "inherit", env });
  console.log(`✓ ${name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
}

if (process.env.CI === "true" && !fs.existsSync(process.env.SPLICER_CHROMIUM ?? "/usr/bin/chromium")) {
  console.error("CI=true but Chromium is missing: browser tests must run in CI (apt-get install -y chromium)");
  process.exit(1);
}

try {
  step("prisma client", bin("tsx"), ["scripts/prisma-generate.ts"]);
  step("typecheck", bin("tsc"), ["--noEmit", "-p", "."]);
  step("agent bundle", bin("tsx"), ["scripts/build-agent.ts"]);
  step("console build", bin("next"), ["build"]);
  step("tests", bin("vitest"), ["run", ...process.argv.slice(2)]);
} catch {
  process.exit(1);
}
