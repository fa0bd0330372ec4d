// AgentConnection's retry policy with a fake socket and a manual clock: which delays it waits,
// when it resets, what it asks socket.io-client for.
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { Backoff } from "../../../agent/backoff";
import { AgentConnection, type AgentSocket, type ConnectionHandlers } from "../../../agent/connection";
import { CONNECT_ERRORS, PROTOCOL_VERSION } from "../../../agent/protocol";
import type { Timers } from "../../../agent/timers";

class ManualTimers implements Timers {
  t = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void; every?: number }>();
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => this.add(fn, ms);
  setInterval = (fn: () => void, ms: number) => this.add(fn, ms, ms);
  clearTimeout = (h: unknown) => void this.pending.delete(h as number);
  clearInterval = (h: unknown) => void this.pending.delete(h as number);
  private add(fn: () => void, ms: number, every?: number) {
    const id = ++this.seq;
    this.pending.set(id, { at: this.t + ms, fn, every });
    return id;
  }
  /** The delay of the one pending one-shot timer that fires next. */
  nextDelay(): number {
    const next = [...this.pending.values()].filter((p) => !p.every).sort((a, b) => a.at - b.at)[0];
    if (!next) throw new Error("no timer pending");
    return next.at - this.t;
  }
  advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      const [id, next] = [...this.pending.entries()].sort((a, b) => a[1].at - b[1].at)[0] ?? [];
      if (id === undefined || !next || next.at > end) break;
      this.t = next.at;
      if (next.every) next.at += next.every;
      else this.pending.delete(id);
      next.fn();
    }
    this.t = end;
  }
}

class FakeSocket extends EventEmitter {
  connectCalls = 0;
  disconnected = false;
  constructor(
    readonly url: string,
    readonly opts: Record<string, unknown>,
  ) {
    super();
  }
  connect() {
    this.connectCalls++;
    return this;
  }
  disconnect() {
    this.disconnected = true;
    return this;
  }
}

async function flush() {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

function setup(random = () => 0.999) {
  const timers = new ManualTimers();
  const sockets: FakeSocket[] = [];
  const events: string[] = [];
  const handlers: ConnectionHandlers = {
    onConnect: () => events.push("connect"),
    onDisconnect: (r) => events.push(`disconnect:${r}`),
    onConfig: (c) => events.push(`config:${c.heartbeatIntervalSec}`),
    onRevoked: (r) => events.push(`revoked:${r}`),
  };
  const conn = new AgentConnection({
    server: "https://console.example/",
    auth: { hostId: "0b0f9a8e-3c1d-4e6f-9a2b-5c7d8e9f0a1b", credential: "c".repeat(40), protocol: PROTOCOL_VERSION },
    handlers,
    timers,
    backoff: new Backoff({ baseMs: 1000, capMs: 60_000, random }),
    stableAfterMs: 30_000,
    io: (url, opts) => {
      const s = new FakeSocket(url, opts as Record<string, unknown>);
      sockets.push(s);
      return s as unknown as AgentSocket;
    },
  });
  return { conn, timers, sockets, events, last: () => sockets[sockets.length - 1]! };
}

/** setup(), started, with its first attempt made (the initial delay is 0 here). */
async function started() {
  const s = setup();
  s.conn.start();
  s.timers.advance(0);
  await flush();
  return s;
}

describe("AgentConnection retry policy", () => {
  it("connects to /agent over websocket only, with its own reconnection off and the auth payload", async () => {
    const { timers, last } = await started();
    const s = last();
    expect(s.url).toBe("https://console.example/agent");
    expect(s.opts).toMatchObject({ transports: ["websocket"], reconnection: false, forceNew: true, autoConnect: false });
    expect(s.opts.auth).toMatchObject({ protocol: PROTOCOL_VERSION });
    expect(s.connectCalls).toBe(1);
  });

  it("waits growing delays between failed attempts, capped", async () => {
    const { timers, sockets, last } = await started();
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      last().emit("connect_error", new Error("xhr poll error"));
      expect(last().disconnected).toBe(true); // the failed socket is closed, not left to retry itself
      delays.push(timers.nextDelay());
      timers.advance(timers.nextDelay());
      await flush();
    }
    expect(delays).toEqual([999, 1998, 3996, 7992, 15984, 31968, 59940, 59940, 59940]);
    expect(sockets).toHaveLength(10);
  });

  it("resets the backoff only after a connection stayed up for 30 s", async () => {
    const { timers, last, events } = await started();
    const upThenDropped = (ms: number) => {
      last().emit("connect");
      timers.advance(ms);
      last().emit("disconnect", "transport close");
    };
    for (let i = 0; i < 4; i++) {
      last().emit("connect_error", new Error("refused"));
      timers.advance(timers.nextDelay());
      await flush();
    }
    // Up briefly, then dropped: the delay keeps growing.
    upThenDropped(5_000);
    expect(timers.nextDelay()).toBe(15984);
    timers.advance(timers.nextDelay());
    await flush();
    // Up for 30 s: the next drop starts over from the base.
    upThenDropped(30_000);
    expect(timers.nextDelay()).toBe(999);
    expect(events.filter((e) => e === "connect")).toHaveLength(2);
    expect(events).toContain("disconnect:transport close");
  });

  it("stops for good on a fatal connect_error and reports it once", async () => {
    for (const msg of [CONNECT_ERRORS.badAuth, CONNECT_ERRORS.revoked]) {
      const { timers, last, events, sockets } = await started();
      last().emit("connect_error", new Error(msg));
      expect(events).toEqual([`revoked:${msg}`]);
      timers.advance(10 * 60_000);
      await flush();
      expect(sockets).toHaveLength(1);
    }
  });

  it("keeps retrying on a protocol-version refusal (the console may be mid-upgrade)", async () => {
    const { timers, last, sockets } = await started();
    last().emit("connect_error", new Error(CONNECT_ERRORS.protocol));
    timers.advance(timers.nextDelay());
    await flush();
    expect(sockets).toHaveLength(2);
  });

  it("validates `config` and ignores a malformed one", async () => {
    const { timers, last, events } = await started();
    last().emit("connect");
    last().emit("config", { heartbeatIntervalSec: 0 });
    last().emit("config", { heartbeatIntervalSec: 15 });
    expect(events).toEqual(["connect", "config:15"]);
  });

  it("spreads the first attempt over the initial delay window", async () => {
    const timers = new ManualTimers();
    const conn = new AgentConnection({
      server: "http://c",
      auth: { hostId: "0b0f9a8e-3c1d-4e6f-9a2b-5c7d8e9f0a1b", credential: "c".repeat(40), protocol: PROTOCOL_VERSION },
      handlers: { onConnect() {}, onDisconnect() {}, onConfig() {}, onRevoked() {} },
      timers,
      initialDelayMaxMs: 10_000,
      random: () => 0.25,
      io: () => new FakeSocket("", {}) as unknown as AgentSocket,
    });
    conn.start();
    expect(timers.nextDelay()).toBe(2500);
    conn.stop();
  });
});
