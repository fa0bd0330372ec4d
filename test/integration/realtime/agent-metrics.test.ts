// A hostile agent cannot grow /metrics: the event label takes only the protocol's event names
// (lib/realtime/validate.ts), anything else counts as "unknown". Real console, real sockets.
import crypto from "node:crypto";
import { io as ioClient } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestConsole, type TestConsole } from "../../helpers/console";

let c: TestConsole;
beforeAll(async () => {
  c = await startTestConsole();
});
afterAll(async () => {
  await c?.stop();
});

const metricsText = async () => (await fetch(`${c.url}/metrics`)).text();

describe("agent metrics", () => {
  it("2,000 random event names from an agent leave /metrics within a small bound", async () => {
    const { hostId, credential } = await c.enroll("hostile", "bad0bad0bad0bad0bad0bad0bad0bad0");
    // A first connection and refusal, so the series an honest fleet has anyway exist before measuring.
    const warm = ioClient(`${c.url}/agent`, { transports: ["websocket"], reconnection: false, auth: { hostId, credential, protocol: 1 } });
    await new Promise<void>((r) => warm.once("connect", () => r()));
    await new Promise((r) => warm.emit("warm-up", {}, r));
    warm.close();
    const before = await metricsText();

    let refused = 0;
    while (refused < 2000) {
      // The console drops an agent after a few refusals a minute: the hostile one reconnects each time.
      const s = ioClient(`${c.url}/agent`, { transports: ["websocket"], reconnection: false, auth: { hostId, credential, protocol: 1 } });
      await new Promise<void>((resolve, reject) => {
        s.once("connect", () => resolve());
        s.once("connect_error", reject);
      });
      const gone = new Promise<void>((r) => s.once("disconnect", () => r()));
      for (let i = 0; i < 6 && refused < 2000; i++) {
        const ack = await new Promise<{ ok: boolean }>((r) => s.emit(`evil-${crypto.randomBytes(6).toString("hex")}`, {}, r));
        expect(ack.ok).toBe(false);
        refused++;
      }
      if (refused < 2000) await gone;
      s.close();
    }

    const after = await metricsText();
    const series = after.split("\n").filter((l) => l.startsWith("splicer_agent_messages_total{"));
    expect(series.filter((l) => l.includes("evil-"))).toEqual([]);
    expect(series.find((l) => l.includes('event="unknown"') && l.includes('result="refused"'))).toMatch(/ 2001$/);
    // The probe saw 72 KB grow to 205 KB; what may still grow here is a handful of database timing series.
    expect(after.length - before.length).toBeLessThan(8 * 1024);
    console.log(`/metrics ${before.length} → ${after.length} bytes`);
  });
});
