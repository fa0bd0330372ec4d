import { describe, expect, it } from "vitest";
import { loadEnv } from "@/lib/config";

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
