// Two console processes on one database, as behind a load balancer: what one process changes,
// the other acts on at once, through the Postgres bus.
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditVerify } from "@/lib/api/schemas";
import { eventually, startFakeHostAgent, startTestConsole, type AgentProcess, type TestConsole } from "../../helpers/console";
import { makeFakeHost } from "../../helpers/fake-host";
import { connected, openUiSocket } from "../../helpers/sockets";

let a: TestConsole;
let b: TestConsole;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  a = await startTestConsole();
  b = await startTestConsole({ sharing: a });
});
afterAll(async () => {
  await Promise.all(agents.map((x) => x.stop()));
  await b?.stop();
  await a?.stop();
});

describe("two console processes", () => {
  it("an agent connected to one is seen by the other, and a revocation made on the other disconnects it at once", async () => {
    const fake = makeFakeHost({ machineId: "abababababababababababababababab" });
    // Connected to A, seen through B.
    const { agent, host } = await startFakeHostAgent(b, fake, "abababababababababababababababab", agents, { token: await b.enrollmentToken(), server: a.url });

    // A browser on process B hears about changes made through process A.
    const cookie = await b.login("admin", b.adminPassword);
    const ui = await connected(openUiSocket(b.url, { cookie }));
    const pushed = new Promise<void>((resolve) => ui.on("hosts:changed", (e: { ids: string[] }) => e.ids.includes(host.id) && resolve()));
    expect((await a.api(`/api/v1/hosts/${host.id}`, { method: "PATCH", json: { labels: { env: "prod" } }, headers: { origin: a.url } })).status).toBe(200);
    await pushed;
    ui.close();

    // Revoked through B; the agent's connection is held by A.
    const started = Date.now();
    const r = await b.api(`/api/v1/hosts/${host.id}/revoke`, { method: "POST", json: { reason: "test" }, headers: { origin: b.url } });
    expect(r.status).toBe(200);
    expect(await agent.exited()).toBe(3);
    expect(Date.now() - started).toBeLessThan(5000);
    // The credential is out of use but kept aside (for an admin's restore), not deleted.
    expect(fs.readdirSync(agent.stateDir).filter((f) => /cred/.test(f))).toEqual([expect.stringMatching(/^credential\.json\.refused-/)]);
  });

  it("keeps one unbroken audit chain when both processes write at the same time", async () => {
    const writes = [];
    for (let i = 0; i < 20; i++) {
      const c = i % 2 ? a : b;
      writes.push(c.api("/api/v1/enrollment-tokens", { method: "POST", json: { note: `concurrent ${i}` }, headers: { origin: c.url } }));
    }
    const results = await Promise.all(writes);
    expect(results.every((r) => r.status === 200)).toBe(true);
    const verify = (await (await a.api("/api/v1/audit/verify")).json()) as AuditVerify;
    expect(verify.ok).toBe(true);
    expect(verify.checked).toBeGreaterThanOrEqual(20);
    // Both processes append checkpoints to the data dir they share: whole lines, all valid, and
    // the newest event among them.
    const head = ((await (await a.api("/api/v1/audit?limit=1")).json()) as { items: { seq: string }[] }).items[0].seq;
    const anchored = await eventually(async () => {
      const v = (await (await b.api("/api/v1/audit/verify")).json()) as AuditVerify;
      return v.anchor.latest?.seq === head && v;
    }, { what: `a checkpoint of seq ${head}` });
    expect(anchored).toMatchObject({ ok: true, anchor: { forgedLines: [], unreadableLines: [] } });
  });
});
