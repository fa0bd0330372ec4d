// The bundle: built with the real build function, run with plain `node` as it would be on a host.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAgent, type BuildAgentResult } from "../../../scripts/build-agent";
import { enrollsAndHeartbeats } from "./agent-process";

const ROOT = path.resolve(import.meta.dirname, "../../..");
let built: BuildAgentResult;
let tmp: string;

beforeAll(async () => {
  built = await buildAgent({ version: "9.9.9-test" });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "splicer-bundle-"));
}, 60_000);
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const node = (file: string, args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [file, ...args], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", ...env } as unknown as NodeJS.ProcessEnv, timeout: 20_000 });

describe("agent bundle", () => {
  it("builds one executable file quickly, with the shebang and the version baked in", async () => {
    expect(built.outfile).toBe(path.join(ROOT, "agent/dist/splicer-agent.js"));
    expect(built.ms).toBeLessThan(5000);
    const text = await fs.readFile(built.outfile, "utf8");
    expect(text.startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect((await fs.stat(built.outfile)).mode & 0o111).not.toBe(0);
    // Self-contained: nothing but Node's built-ins is required at run time (the optional modules
    // ws and debug try are bundled as absent), so it also runs as a single executable application.
    const builtins = new Set((await import("node:module")).builtinModules);
    const requires = [...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!);
    expect(requires.length).toBeGreaterThan(10);
    expect(requires.filter((r) => !r.startsWith("node:") && !builtins.has(r))).toEqual([]);
  });

  it("runs `node agent/dist/splicer-agent.js --help` and --version", () => {
    const help = node(built.outfile, ["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Usage: splicer-agent --server URL");
    const version = node(built.outfile, ["--version"]);
    expect(version.stdout.trim()).toBe("9.9.9-test");
  });

  it("runs as a lone file outside this repository and exits 2 on bad config", async () => {
    const lone = path.join(tmp, "splicer-agent.js");
    await fs.copyFile(built.outfile, lone);
    expect(node(lone, ["--help"]).status).toBe(0);
    const bad = node(lone, ["--server", "nope"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--server (SPLICER_SERVER)");
  });

  it("enrolls, reports the fake host's inventory, heartbeats, and exits 0 on SIGTERM", async () => {
    await enrollsAndHeartbeats({ command: [process.execPath, built.outfile], env: { PATH: process.env.PATH ?? "" }, version: "9.9.9-test" });
  });
});
