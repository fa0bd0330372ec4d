// The /agent namespace with a hand-driven socket.io client: every message is validated, bad ones
// are refused with a reason, repeat offenders are dropped, and the console keeps running.
import type { Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Ack } from "@/agent/protocol";
import { eventually, startTestConsole, type TestConsole } from "../../helpers/console";
import { agentAuth, agentSockets, connectOutcome } from "../../helpers/sockets";

let c: TestConsole;
let cred: { hostId: string; credential: string };
const sockets = agentSockets(() => c.url);

const inventory = (over: Record<string, unknown> = {}) => ({
  hostname: "gw-test-01",
  machineId: "gw-test-machine",
  bootId: "b-1",
  kernelRelease: "6.1.0-55-amd64",
  kernelVersion: "#1 SMP",
  distro: { id: "debian", name: "Debian GNU/Linux", version: "12" },
  arch: "x86_64",
  uptimeSec: 100,
  cpuCount: 4,
  memoryBytes: 8 << 30,
  livepatches: [],
  agentVersion: "test",
  ...over,
});

const connect = (auth: Record<string, unknown> = agentAuth(cred)) => sockets.connect(auth);
const send = (s: Socket, event: string, data: unknown) => s.timeout(5000).emitWithAck(event, data) as Promise<Ack>;

beforeAll(async () => {
  c = await startTestConsole();
  cred = await c.enroll("gw-test-01", "gw-test-machine");
});
afterAll(async () => {
  await c?.stop();
});

describe("agent namespace", () => {
  it("refuses connections without a valid credential", async () => {
    await expect(connect({ ...agentAuth(cred), credential: "x".repeat(40) })).rejects.toThrow("invalid credential");
    await expect(connect({ hello: "world" })).rejects.toThrow("invalid credential");
    await expect(connect({ ...agentAuth(cred), protocol: 99 })).rejects.toThrow("unsupported protocol version");
  });

  it("accepts a valid inventory and sends the heartbeat config", async () => {
    // Opened, not awaited: the config is sent as the connection is accepted.
    const s = sockets.open(agentAuth(cred));
    const config = await new Promise<{ heartbeatIntervalSec: number }>((resolve) => s.once("config", resolve));
    expect(config.heartbeatIntervalSec).toBe(30);
    expect(await send(s, "inventory", inventory())).toEqual({ ok: true });
    expect(await send(s, "heartbeat", { uptimeSec: 101 })).toEqual({ ok: true });
    const rows = await c.db.query<{ kernelRelease: string; online: boolean }>(`select "kernelRelease", online from "Host" where id = $1`, [cred.hostId]);
    expect(rows[0]).toEqual({ kernelRelease: "6.1.0-55-amd64", online: true });
    s.close();
  });

  it("refuses malformed, oversized and unknown messages with the reason, then drops a repeat offender", async () => {
    const s = await connect();
    const errors: string[] = [];
    s.on("protocol_error", (e: { error: string }) => errors.push(e.error));

    const bad = await send(s, "inventory", inventory({ kernelRelease: 42, livepatches: [{ name: "../../etc", enabled: "yes" }] }));
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/invalid inventory/);
    expect(!bad.ok && bad.error).toMatch(/kernelRelease/);

    const huge = await send(s, "inventory", inventory({ kernelVersion: "x".repeat(300_000) }));
    expect(!huge.ok && huge.error).toMatch(/too large/);

    const unknown = await send(s, "rm -rf", {});
    expect(!unknown.ok && unknown.error).toMatch(/unknown event/);

    expect(await send(s, "heartbeat", { uptimeSec: -1 })).toMatchObject({ ok: false });
    expect(await send(s, "heartbeat", "not an object")).toMatchObject({ ok: false });
    await eventually(async () => errors.length >= 5, { what: "protocol_error events" });

    // The sixth refusal within a minute closes the connection.
    const closed = new Promise<string>((resolve) => s.once("disconnect", (reason) => resolve(reason)));
    s.emit("heartbeat", null);
    expect(await closed).toBe("io server disconnect");

    // Nothing was stored from the bad messages, and the console is healthy.
    const rows = await c.db.query<{ kernelRelease: string }>(`select "kernelRelease" from "Host" where id = $1`, [cred.hostId]);
    expect(rows[0].kernelRelease).toBe("6.1.0-55-amd64");
    expect((await fetch(`${c.url}/api/health`)).status).toBe(200);
    const again = await connect();
    expect(await send(again, "heartbeat", { uptimeSec: 5 })).toEqual({ ok: true });
  });

  it("a second connection with the same credential replaces the first, and the host stays online", async () => {
    const first = await connect();
    const dropped = new Promise<void>((resolve) => first.once("disconnect", () => resolve()));
    const second = await connect();
    await dropped;
    expect(await send(second, "heartbeat", { uptimeSec: 6 })).toEqual({ ok: true });
    await new Promise((r) => setTimeout(r, 500));
    const rows = await c.db.query<{ online: boolean }>(`select online from "Host" where id = $1`, [cred.hostId]);
    expect(rows[0].online).toBe(true);
  });
});

describe("connections of one host racing", () => {
  it("keep the newest connected: an older connection's late announcement on the bus drops nothing", async () => {
    let bothDropped = 0;
    for (let i = 0; i < 12; i++) {
      // Two handshakes at once: the console registers one, then the other, while the first one's
      // "host.connected" is still on its way through Postgres.
      const pair = [0, 1].map(() => sockets.open(agentAuth(cred)));
      await Promise.all(pair.map(connectOutcome));
      // Long enough for both announcements to come back over the bus.
      await new Promise((r) => setTimeout(r, 400));
      if (!pair.some((s) => s.connected)) bothDropped++;
      for (const s of pair) s.close();
    }
    expect(bothDropped, "pairs in which the newer connection was dropped too").toBe(0);
    const last = await connect();
    await eventually(async () => (await c.db.query<{ online: boolean }>(`select online from "Host" where id = $1`, [cred.hostId]))[0]?.online, { what: "host online" });
    last.close();
  });
});

describe("HTTP input validation", () => {
  it("answers bad bodies and queries with 400 and a message that names the problem", async () => {
    const notJson = await fetch(`${c.url}/api/v1/agent/enroll`, { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" });
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).error.message).toMatch(/not valid JSON/);
    const badQuery = await c.api("/api/v1/hosts?limit=100000&online=maybe");
    expect(badQuery.status).toBe(400);
    const msg = (await badQuery.json()).error.message as string;
    expect(msg).toMatch(/limit/);
    expect(msg).toMatch(/online/);
    const badLabels = await c.api(`/api/v1/hosts/${cred.hostId}`, { method: "PATCH", json: { labels: { "Bad Key!": "x" } }, headers: { origin: c.url } });
    expect(badLabels.status).toBe(400);
    expect((await badLabels.json()).error.message).toMatch(/label keys/);
    const missing = await c.api("/api/v1/hosts/00000000-0000-4000-8000-000000000000");
    expect(missing.status).toBe(404);
  });
});
