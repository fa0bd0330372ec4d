// The agent end to end against a real socket.io server: a minimal fake console in this process.
import net from "node:net";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as fsSync from "node:fs";
import { Agent, EXIT, refusalDelayMs, type AgentOptions } from "../../../agent/agent";
import { realTimers } from "../../../agent/timers";
import { InventoryCollector } from "../../../agent/inventory";
import { Logger } from "../../../agent/log";
import { CONNECT_ERRORS } from "../../../agent/protocol";
import { FileCredentialStore, FileRefusalCounter } from "../../../agent/state";
import { FakeConsole, waitFor } from "./fake-console";
import { simulatedKernel } from "../../helpers/fake-host";

const TOKEN = "test-enroll-token";
let console_: FakeConsole;
let stateDir: string;
let agent: Agent | null;
let logLines: string[];

function makeAgent(kernel = simulatedKernel(), opts: Partial<AgentOptions> = {}): Agent {
  logLines = [];
  agent = new Agent({
    server: console_.url,
    enrollToken: TOKEN,
    credentials: new FileCredentialStore(stateDir),
    refusals: new FileRefusalCounter(stateDir),
    inventory: new InventoryCollector({ backend: kernel, host: null, agentVersion: "test" }),
    log: new Logger("debug", {}, (l) => logLines.push(l)),
    backoff: { baseMs: 50, capMs: 200 },
    ackTimeoutMs: 2000,
    ...opts,
  });
  return agent;
}

const credFile = () => path.join(stateDir, "credential.json");
/** The credentials kept aside in the state dir, oldest first. */
const keptAside = async () => {
  const names = (await fs.readdir(stateDir)).filter((n) => n.startsWith("credential.json.refused-")).sort();
  return Promise.all(names.map(async (n) => {
    const c = JSON.parse(await fs.readFile(path.join(stateDir, n), "utf8"));
    return { hostId: c.hostId, credential: c.credential };
  }));
};
const exists = (f: string) => fs.access(f).then(() => true, () => false);
const onlyHost = () => {
  expect(console_.hosts.size).toBe(1);
  return [...console_.hosts.values()][0]!;
};

beforeEach(async () => {
  console_ = await new FakeConsole({ tokens: [TOKEN], heartbeatIntervalSec: 1 }).start();
  stateDir = await fs.mkdtemp(path.join(os.tmpdir(), "splicer-agent-conn-"));
  agent = null;
});

afterEach(async () => {
  await agent?.stop();
  await console_.stop();
  await fs.rm(stateDir, { recursive: true, force: true });
});

describe("Agent against a fake console", () => {
  it("enrolls, stores the credential (0600), connects and sends its inventory", async () => {
    const a = makeAgent();
    const connected = new Promise<void>((r) => a.once("connected", r));
    await a.start();
    await connected;
    const host = onlyHost();
    expect(host.machineId).toBe("0123456789abcdef0123456789abcdef");
    expect(host.hostname).toBe("web-prod-017.fra1");
    expect(a.hostId).toBe(host.hostId);

    const stored = JSON.parse(await fs.readFile(credFile(), "utf8"));
    expect(stored).toMatchObject({ hostId: host.hostId, credential: host.credential, server: console_.url });
    expect((await fs.stat(credFile())).mode & 0o777).toBe(0o600);
    expect((await fs.stat(stateDir)).mode & 0o777).toBe(0o700);

    await waitFor(() => host.inventories.length === 1, 3000, "inventory");
    expect(host.inventories[0]).toMatchObject({
      kernelRelease: "6.1.0-50-amd64",
      distro: { id: "debian", version: "12" },
      livepatches: [],
      agentVersion: "test",
    });
    expect(host.inventories[0]!.uptimeSec).toBeGreaterThanOrEqual(3600);
  });

  it("sends heartbeats at the interval the console configures", async () => {
    const a = makeAgent();
    await a.start();
    await waitFor(() => console_.hosts.size === 1 && onlyHost().heartbeats.length >= 3, 6000, "3 heartbeats");
    const at = onlyHost().heartbeats.map((h) => h.at);
    for (let i = 1; i < at.length; i++) {
      expect(at[i]! - at[i - 1]!).toBeGreaterThan(700);
      expect(at[i]! - at[i - 1]!).toBeLessThan(1500);
    }
    expect(onlyHost().heartbeats[0]!.uptimeSec).toBeGreaterThanOrEqual(3600);
  });

  it("lets --heartbeat-sec override the console's interval", async () => {
    console_.heartbeatIntervalSec = 60;
    const a = makeAgent(simulatedKernel(), { heartbeatSecOverride: 1 });
    await a.start();
    await waitFor(() => console_.hosts.size === 1 && onlyHost().heartbeats.length >= 2, 4000, "2 heartbeats");
  });

  it("re-sends inventory only when something other than uptime changed", async () => {
    const kernel = simulatedKernel();
    const a = makeAgent(kernel, { inventoryIntervalMs: 50 });
    await a.start();
    await waitFor(() => console_.hosts.size === 1 && onlyHost().inventories.length === 1, 3000, "first inventory");
    await new Promise((r) => setTimeout(r, 400)); // several polls, nothing changed
    expect(onlyHost().inventories).toHaveLength(1);
    kernel.setLivepatches([{ name: "livepatch_cve_2024_1086", enabled: true, transition: true }]);
    await waitFor(() => onlyHost().inventories.length === 2, 2000, "changed inventory");
    expect(onlyHost().inventories[1]!.livepatches).toEqual([{ name: "livepatch_cve_2024_1086", enabled: true, transition: true }]);
  });

  it("reconnects with its stored credential after the console goes away and comes back", async () => {
    const a = makeAgent();
    await a.start();
    await waitFor(() => a.connected, 3000, "connect");
    const port = console_.port;
    const disconnected = new Promise<void>((r) => a.once("disconnected", () => r()));
    await console_.stop();
    // Keep the port while the console is down (connections are dropped): another test running in
    // parallel must not take it before the console comes back on it (it did once in CI).
    const holder = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => holder.listen(port, "127.0.0.1", r));
    await disconnected;
    expect(a.connected).toBe(false);
    await new Promise((r) => setTimeout(r, 300)); // a few failed attempts while it is down
    await new Promise<void>((r) => holder.close(() => r()));
    console_.port = port;
    await console_.start();
    await waitFor(() => a.connected, 15_000, "reconnect");
    const host = onlyHost();
    expect(host.connects).toBe(2);
    expect(console_.enrollRequests).toBe(1); // no re-enrollment
    await waitFor(() => host.inventories.length === 2, 15_000, "inventory after reconnect");
  });

  it("presents a credential stored under another URL of the same console (it moved to a new port): the same host", async () => {
    const first = makeAgent();
    await first.start();
    await waitFor(() => first.connected, 3000, "connect");
    const host = onlyHost();
    await first.stop();
    await console_.stop();
    console_.port = 0; // the console comes back on another port: its URL changes
    await console_.start();
    const moved = makeAgent(simulatedKernel(), { server: console_.url });
    await moved.start();
    await waitFor(() => moved.connected, 5000, "connect at the new URL");
    expect(moved.hostId).toBe(host.hostId);
    expect(console_.hosts.size).toBe(1);
    expect(console_.enrollBodies.at(-1)).toMatchObject({ previous: { hostId: host.hostId } });
  });

  it("skips enrollment when a credential exists", async () => {
    const first = makeAgent();
    await first.start();
    await waitFor(() => first.connected, 3000, "connect");
    await first.stop();
    const second = makeAgent(simulatedKernel(), { enrollToken: undefined });
    await second.start();
    await waitFor(() => second.connected, 3000, "second connect");
    expect(console_.enrollRequests).toBe(1);
    expect(onlyHost().connects).toBe(2);
  });

  it("on `revoked`: keeps the credential aside (not deleted), stops with exit code 3 and never reconnects", async () => {
    const a = makeAgent();
    await a.start();
    await waitFor(() => a.connected, 3000, "connect");
    const host = onlyHost();
    const credential = host.credential;
    console_.revoke(host.hostId, "decommissioned by alice");
    const exit = await a.done;
    expect(exit.code).toBe(EXIT.revoked);
    expect(exit.reason).toContain("decommissioned by alice");
    expect(await exists(credFile())).toBe(false);
    expect(await keptAside()).toEqual([{ hostId: host.hostId, credential }]);
    expect(JSON.parse(await fs.readFile(path.join(stateDir, "refusals.json"), "utf8")).count).toBe(1);
    await new Promise((r) => setTimeout(r, 400));
    expect(host.connects).toBe(1);
    expect(console_.connectErrors).toEqual([]);
    expect(logLines.some((l) => JSON.parse(l).level === "error" && /revoked/.test(JSON.parse(l).msg))).toBe(true);
  });

  it("on connect_error 'host revoked' (revoked while offline): keeps the credential aside and stops", async () => {
    const a = makeAgent();
    await a.start();
    await waitFor(() => a.connected, 3000, "connect");
    const port = console_.port;
    await console_.stop();
    onlyHost().revoked = true;
    console_.port = port;
    await console_.start();
    const exit = await a.done;
    expect(exit.code).toBe(EXIT.revoked);
    expect(console_.connectErrors).toEqual([CONNECT_ERRORS.revoked]);
    expect(await exists(credFile())).toBe(false);
    expect(await keptAside()).toHaveLength(1);
  });

  it("on connect_error 'invalid credential': keeps the credential aside and stops (exit 4) without retrying", async () => {
    const refused = { hostId: "0b0f9a8e-3c1d-4e6f-9a2b-5c7d8e9f0a1b", credential: "x".repeat(43) };
    await new FileCredentialStore(stateDir).save({ ...refused, server: console_.url });
    const a = makeAgent();
    await a.start();
    const exit = await a.done;
    expect(exit.code).toBe(EXIT.credentialRefused);
    expect(await exists(credFile())).toBe(false);
    expect(await keptAside()).toEqual([refused]);
    await new Promise((r) => setTimeout(r, 300));
    expect(console_.connectErrors).toEqual([CONNECT_ERRORS.badAuth]);
    expect(console_.enrollRequests).toBe(0);
  });

  it("after a revocation, the restarted agent proves itself with the kept credential: refused while revoked, the same host once restored", async () => {
    // Restarts wait refusalDelayMs(n) (10 s, 20 s, …); this clock runs them 1000× faster.
    const fast = { ...realTimers, setTimeout: (fn: () => void, ms: number) => realTimers.setTimeout(fn, ms / 1000) };
    const a = makeAgent();
    await a.start();
    await waitFor(() => a.connected, 3000, "connect");
    const host = onlyHost();
    console_.revoke(host.hostId, "suspicious");
    expect((await a.done).code).toBe(EXIT.revoked);

    // systemd restarts it (no token left in the environment): still revoked, so refused.
    const second = makeAgent(simulatedKernel(), { enrollToken: undefined, timers: fast, random: () => 0 });
    await second.start();
    const refusedExit = await second.done;
    expect(refusedExit.code).toBe(EXIT.failed);
    expect(refusedExit.reason).toMatch(/revoked/);
    expect(console_.enrollBodies.at(-1)).toMatchObject({ machineId: host.machineId, previous: { hostId: host.hostId } });
    expect(console_.enrollBodies.at(-1)!.enrollmentToken).toBeUndefined();
    expect(logLines.some((l) => /waiting before asking again/.test(l) && JSON.parse(l).refusals === 1 && JSON.parse(l).waitMs === 5000)).toBe(true);
    expect(JSON.parse(await fs.readFile(path.join(stateDir, "refusals.json"), "utf8")).count).toBe(2);

    host.revoked = false; // an admin restored it
    const third = makeAgent(simulatedKernel(), { enrollToken: undefined, timers: fast, random: () => 0 });
    await third.start();
    await waitFor(() => third.connected, 5000, "connect after restore");
    expect(third.hostId).toBe(host.hostId);
    expect(console_.hosts.size).toBe(1);
    expect(logLines.some((l) => /waiting before asking again/.test(l) && JSON.parse(l).waitMs === 10_000)).toBe(true);
    await waitFor(() => !fsSync.existsSync(path.join(stateDir, "refusals.json")), 2000, "refusal count reset on connect");
  });

  it("refusalDelayMs grows from 10 s to an hour, the upper half jittered", () => {
    expect(refusalDelayMs(0)).toBe(0);
    expect([1, 2, 3].map((n) => refusalDelayMs(n, () => 0))).toEqual([5_000, 10_000, 20_000]);
    expect(refusalDelayMs(1, () => 0.999)).toBeLessThan(10_000);
    expect(refusalDelayMs(50, () => 0)).toBe(1_800_000);
  });

  it("retries enrollment through 5xx answers", async () => {
    console_.failEnrollments = 2;
    const a = makeAgent();
    await a.start();
    await waitFor(() => a.connected, 5000, "connect");
    expect(console_.enrollRequests).toBe(3);
  });

  it("gives up on a refused token (4xx) with the console's message and exit code 1", async () => {
    const a = makeAgent(simulatedKernel(), { enrollToken: "wrong-token-123" });
    await a.start();
    const exit = await a.done;
    expect(exit.code).toBe(EXIT.failed);
    expect(exit.reason).toContain("enrollment token is invalid or expired");
    expect(exit.reason).toContain("401");
    expect(console_.enrollRequests).toBe(1);
    expect(await exists(credFile())).toBe(false);
  });

  it("keeps retrying while the console is unreachable, and stop() ends it cleanly", async () => {
    const port = console_.port;
    await console_.stop();
    const a = makeAgent();
    void a.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(a.state).toBe("enrolling");
    console_.port = port;
    await console_.start();
    await waitFor(() => a.connected, 5000, "connect once the console is up");
    await a.stop();
    expect((await a.done).code).toBe(EXIT.ok);
    await waitFor(() => console_.connectedCount() === 0, 2000, "server sees the disconnect");
  });
});
