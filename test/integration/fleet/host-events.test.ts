// A host's timeline stays bounded whatever its agent does (lib/fleet/presence.ts: quick
// reconnects counted in one entry) and old entries go after the retention setting
// (lib/fleet/host-events.ts, pruned by every console process). Real console, real sockets.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HostDetail, Settings } from "@/lib/api/schemas";
import { eventually, getJson, startTestConsole, type TestConsole } from "../../helpers/console";
import { agentAuth, agentSockets } from "../../helpers/sockets";

let c: TestConsole;
beforeAll(async () => {
  c = await startTestConsole();
});
afterAll(async () => {
  await c?.stop();
});

const online = async (hostId: string) => (await c.db.query<{ online: boolean }>(`select online from "Host" where id = $1`, [hostId]))[0].online;
const events = (hostId: string) =>
  c.db.query<{ type: string; details: Record<string, unknown> }>(`select type, details from "HostEvent" where "hostId" = $1 order by at, id`, [hostId]);

describe("host timeline growth", () => {
  const sockets = agentSockets(() => c.url);

  it("200 reconnects of one host add a bounded number of rows, and the timeline says how often it reconnected", async () => {
    const cred = await c.enroll("flappy", "f1a9f1a9f1a9f1a9f1a9f1a9f1a9f1a9");
    const { hostId } = cred;
    for (let i = 0; i < 200; i++) {
      const s = await sockets.connect(agentAuth(cred));
      await eventually(() => online(hostId), { what: `connection ${i} recorded`, intervalMs: 5 });
      s.close();
      await eventually(async () => !(await online(hostId)), { what: `disconnection ${i} recorded`, intervalMs: 5 });
    }
    const rows = await events(hostId);
    // enrolled, connected, one "reconnected ×199", and the last disconnect (the host is offline now).
    expect(rows.map((r) => r.type)).toEqual(["enrolled", "connected", "reconnected", "disconnected"]);
    expect(rows[2].details).toMatchObject({ count: 199, lastReason: "client namespace disconnect" });
    const detail = await getJson<HostDetail>(c, `/api/v1/hosts/${hostId}`);
    expect(detail.events.map((e) => e.type)).toContain("reconnected");
  });

  it("deletes entries older than the retention setting, in batches, and keeps newer ones", async () => {
    const { hostId } = await c.enroll("old-timer", "0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d");
    // 12,000 entries 40 days old (more than one batch), 3 from 10 days ago.
    await c.db.query(
      `insert into "HostEvent" ("hostId", at, type, details)
       select $1::uuid, now() - interval '40 days' - make_interval(secs => g), 'rebooted', '{}'::jsonb from generate_series(1, 12000) g`,
      [hostId],
    );
    await c.db.query(
      `insert into "HostEvent" ("hostId", at, type, details) select $1::uuid, now() - interval '10 days', 'kernel_changed', '{}'::jsonb from generate_series(1, 3)`,
      [hostId],
    );
    const bad = await c.api("/api/v1/settings", { method: "PATCH", json: { hostEventRetentionDays: 0 } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("hostEventRetentionDays");
    const r = await c.api("/api/v1/settings", { method: "PATCH", json: { hostEventRetentionDays: 30 } });
    expect(r.status).toBe(200);
    expect(((await r.json()) as Settings).hostEventRetentionDays).toBe(30);
    // A settings change prunes at once (otherwise every ten minutes, and at start).
    await eventually(async () => (await events(hostId)).every((e) => e.type !== "rebooted"), { what: "old entries pruned", timeoutMs: 30_000 });
    const left = await events(hostId);
    expect(left.filter((e) => e.type === "kernel_changed")).toHaveLength(3);
    expect(left.map((e) => e.type)).toContain("enrolled");
  });
});
