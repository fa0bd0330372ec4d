// A hostile agent cannot grow /metrics: the event label takes only the protocol's event names
// (lib/agents/validate.ts), anything else counts as "unknown". Real console, real sockets.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestConsole, type TestConsole } from "../../helpers/console";
import { agentAuth, agentSockets } from "../../helpers/sockets";

let c: TestConsole;
beforeAll(async () => {
  c = await startTestConsole();
});
afterAll(async () => {
  await c?.stop();
});

const metricsText = async () => (await fetch(`${c.url}/metrics`)).text();

describe("agent metrics", () => {
  const sockets = agentSockets(() => c.url);

  it("2,000 random event names from agents leave /metrics within a small bound", async () => {
    const hosts = await Promise.all([0, 1, 2, 3].map((i) => c.enroll(`hostile-${i}`, `bad0bad0bad0bad0bad0bad0bad0bad${i}`)));
    const connect = (h: { hostId: string; credential: string }) => sockets.connect(agentAuth(h));
    // A first refusal, so the series an honest fleet has anyway exist before measuring.
    const warm = await connect(hosts[0]);
    await new Promise((r) => warm.emit("warm-up", {}, r));
    warm.close();
    const before = await metricsText();

    // Four hostile agents, 500 made-up event names each. The console drops an agent after a few
    // refusals a minute: a hostile one simply reconnects and goes on.
    const attack = async (h: { hostId: string; credential: string }) => {
      let refused = 0;
      while (refused < 500) {
        const s = await connect(h);
        const gone = new Promise<null>((r) => s.once("disconnect", () => r(null)));
        const n = Math.min(6, 500 - refused);
        // A connection can also be dropped early (a newer one of the same host replaces it): count the answered ones.
        const acks = await Promise.all(
          Array.from({ length: n }, () =>
            Promise.race([new Promise<{ ok: boolean }>((r) => s.emit(`evil-${crypto.randomBytes(6).toString("hex")}`, {}, r)), gone]),
          ),
        );
        const answered = acks.filter((a) => a !== null);
        expect(answered.every((a) => !a.ok)).toBe(true);
        refused += answered.length;
        if (n === 6) await gone;
        s.close();
      }
    };
    await Promise.all(hosts.map(attack));

    const after = await metricsText();
    const series = after.split("\n").filter((l) => l.startsWith("splicer_agent_messages_total{"));
    expect(series.filter((l) => l.includes("evil-"))).toEqual([]);
    const unknown = series.find((l) => l.includes('event="unknown"') && l.includes('result="refused"'));
    // Every refusal is counted, under "unknown" (the warm-up's too).
    expect(Number(unknown?.split(" ").pop())).toBeGreaterThanOrEqual(2001);
    // The probe saw 72 KB grow to 205 KB; what may still grow here is a handful of database timing series.
    expect(after.length - before.length).toBeLessThan(8 * 1024);
    console.log(`/metrics ${before.length} → ${after.length} bytes`);
  });
});
