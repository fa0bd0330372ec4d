// The bundle: built with the real build function, run with plain `node` as it would be on a host.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAgent, type BuildAgentResult } from "../../../scripts/build-agent";
import { FakeConsole, waitFor } from "./fake-console";
import { makeFakeHost, type FakeHost } from "../../helpers/fake-host";

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
    // Self-contained: the only packages still required at run time are optional ones that the
    // bundled code loads inside try/catch (ws's native speed-ups, debug's colour detection).
    const optional = new Set(["bufferutil", "utf-8-validate", "supports-color"]);
    const builtins = new Set((await import("node:module")).builtinModules);
    const requires = [...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!);
    expect(requires.filter((r) => !r.startsWith("node:") && !builtins.has(r) && !optional.has(r))).toEqual([]);
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

  describe("against a fake console", () => {
    let fc: FakeConsole;
    let host: FakeHost;
    beforeAll(async () => {
      fc = await new FakeConsole({ tokens: ["bundle-token-1"], heartbeatIntervalSec: 1 }).start();
      host = makeFakeHost();
      host.setLivepatch("livepatch_cve_2024_1086", { enabled: true });
    });
    afterAll(async () => {
      await fc.stop();
      host.cleanup();
    });

    it("enrolls, reports the fake host's inventory, heartbeats, and exits 0 on SIGTERM", async () => {
      const child = spawn(process.execPath, [built.outfile, "--log-level", "debug"], {
        env: {
          PATH: process.env.PATH ?? "",
          SPLICER_SERVER: fc.url,
          SPLICER_ENROLL_TOKEN: "bundle-token-1",
          SPLICER_STATE_DIR: host.stateDir,
          SPLICER_SYSFS_ROOT: host.sysRoot,
          SPLICER_PROC_ROOT: host.procRoot,
          SPLICER_ETC_ROOT: host.etcRoot,
        } as unknown as NodeJS.ProcessEnv,
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
      try {
        await waitFor(() => [...fc.hosts.values()].some((h) => h.heartbeats.length >= 1), 15_000, "a heartbeat");
      } catch (err) {
        child.kill("SIGKILL");
        throw new Error(`${(err as Error).message}; agent stderr:\n${stderr}`);
      }
      const h = [...fc.hosts.values()][0]!;
      expect(h.inventories[0]).toMatchObject({
        machineId: "0123456789abcdef0123456789abcdef",
        kernelRelease: "6.1.0-50-amd64",
        distro: { id: "debian", name: "Debian GNU/Linux", version: "12" },
        livepatches: [{ name: "livepatch_cve_2024_1086", enabled: true, transition: false }],
        agentVersion: "9.9.9-test",
      });
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      // Every stderr line is one JSON object.
      for (const line of stderr.trim().split("\n")) expect(() => JSON.parse(line)).not.toThrow();
      expect((await fs.stat(path.join(host.stateDir, "credential.json"))).mode & 0o777).toBe(0o600);
    });
  });
});
