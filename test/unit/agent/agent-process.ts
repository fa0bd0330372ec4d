// Runs a built agent (the bundle under node, or the packaged executable) as its own process
// against the fake console and waits for its first heartbeat: what both build tests check.
import { spawn } from "node:child_process";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { expect } from "vitest";
import { FakeConsole, waitFor } from "./fake-console";
import { makeFakeHost, type FakeHost } from "../../helpers/fake-host";

export async function enrollsAndHeartbeats(opts: { command: string[]; env: Record<string, string>; version: string }): Promise<void> {
  const token = "agent-process-token";
  const fc = await new FakeConsole({ tokens: [token], heartbeatIntervalSec: 1 }).start();
  const host = makeFakeHost();
  host.setLivepatch("livepatch_cve_2024_1086", { enabled: true });
  try {
    await runUntilHeartbeat({ ...opts, fc, host, token });
  } finally {
    await fc.stop();
    host.cleanup();
  }
}

async function runUntilHeartbeat(o: { command: string[]; env: Record<string, string>; fc: FakeConsole; host: FakeHost; token: string; version: string }): Promise<void> {
  const [cmd, ...args] = o.command;
  const child = spawn(cmd!, [...args, "--log-level", "debug"], {
    env: {
      ...o.env,
      SPLICER_SERVER: o.fc.url,
      SPLICER_ENROLL_TOKEN: o.token,
      SPLICER_STATE_DIR: o.host.stateDir,
      SPLICER_SYSFS_ROOT: o.host.sysRoot,
      SPLICER_PROC_ROOT: o.host.procRoot,
      SPLICER_ETC_ROOT: o.host.etcRoot,
    } as unknown as NodeJS.ProcessEnv,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  try {
    await waitFor(() => [...o.fc.hosts.values()].some((h) => h.heartbeats.length >= 1), 15_000, "a heartbeat");
  } catch (err) {
    child.kill("SIGKILL");
    throw new Error(`${(err as Error).message}; agent stderr:\n${stderr}`);
  }
  const h = [...o.fc.hosts.values()][0]!;
  expect(h.inventories[0]).toMatchObject({
    machineId: "0123456789abcdef0123456789abcdef",
    kernelRelease: "6.1.0-50-amd64",
    distro: { id: "debian", name: "Debian GNU/Linux", version: "12" },
    livepatches: [{ name: "livepatch_cve_2024_1086", enabled: true, transition: false }],
    agentVersion: o.version,
  });
  child.kill("SIGTERM");
  expect(await exited).toBe(0);
  // Every stderr line is one JSON object (nothing else writes there: no runtime warnings).
  for (const line of stderr.trim().split("\n")) expect(() => JSON.parse(line), line).not.toThrow();
  expect((await fs.stat(path.join(o.host.stateDir, "credential.json"))).mode & 0o777).toBe(0o600);
}
