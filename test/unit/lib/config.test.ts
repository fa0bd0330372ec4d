import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadEnv } from "@/lib/config";
import { ROOT } from "../../helpers/console";

// The console's settings, parsed once with zod: defaults, and a bad value named.
describe("loadEnv", () => {
  it("fills the defaults", () => {
    const e = loadEnv({});
    expect(e).toMatchObject({ PORT: 3000, HOST: "0.0.0.0", SPLICER_DEMO_AGENTS: 50, SPLICER_UI_RECHECK_MS: 30_000, SPLICER_TRUST_PROXY: false, SPLICER_DB_POOL: 20, LOG_LEVEL: "info" });
    expect(e.SPLICER_DATA_DIR).toMatch(/^\//);
  });

  it("reads what is set", () => {
    expect(loadEnv({ SPLICER_TRUST_PROXY: "1", SPLICER_DB_POOL: "5", LOG_LEVEL: "warn", PORT: "0" })).toMatchObject({ SPLICER_TRUST_PROXY: true, SPLICER_DB_POOL: 5, LOG_LEVEL: "warn", PORT: 0 });
  });

  it.each([
    ["SPLICER_DB_POOL", "lots"],
    ["SPLICER_DB_POOL", "0"],
    ["SPLICER_TRUST_PROXY", "yes"],
    ["LOG_LEVEL", "loud"],
    ["PORT", "70000"],
    ["DATABASE_URL", "not a url"],
    ["SPLICER_UI_RECHECK_MS", "5"],
  ])("refuses %s=%s, naming it", (name, value) => {
    expect(() => loadEnv({ [name]: value })).toThrow(new RegExp(`bad configuration:[\\s\\S]*${name}`));
  });
});

// Configuration is read in one place. server.ts may write DATABASE_URL (the channel to Next's
// bundles, see there); proxy.ts's NODE_ENV is replaced by Next at build time, not read at run time.
describe("the environment", () => {
  const ALLOWED = new Set(["lib/config.ts", "server.ts:DATABASE_URL", "proxy.ts:NODE_ENV"]);
  const files = (dir: string): string[] =>
    fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) return e.name === "generated" ? [] : files(rel);
      return /\.tsx?$/.test(e.name) ? [rel] : [];
    });

  it("is read only by lib/config.ts in the console's code", () => {
    const found: string[] = [];
    for (const file of [...files("lib"), ...files("app"), ...files("components"), "server.ts", "proxy.ts"]) {
      if (ALLOWED.has(file)) continue;
      fs.readFileSync(path.join(ROOT, file), "utf8").split("\n").forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, "").trim();
        if (code.startsWith("*") || code.startsWith("/*")) return;
        for (const m of code.matchAll(/process\.env(?:\.(\w+))?/g)) if (!ALLOWED.has(`${file}:${m[1]}`)) found.push(`${file}:${i + 1}: ${code}`);
      });
    }
    expect(found).toEqual([]);
  });
});
