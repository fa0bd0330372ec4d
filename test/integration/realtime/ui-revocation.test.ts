// Browsers' /ui sockets live exactly as long as the session or token they signed in with, and
// only pages of the console itself may open them. Real socket.io clients against a real console.
import type { Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestConsole, type TestConsole } from "../../helpers/console";
import { connected, openUiSocket } from "../../helpers/sockets";

let c: TestConsole;
const admin = (p: string, init: RequestInit & { json?: unknown } = {}) => c.api(p, { ...init, headers: { origin: c.url, ...(init.headers as Record<string, string>) } });

interface Ui {
  socket: Socket;
  events: { name: string; at: number }[];
  disconnectedAt: Promise<number>;
}
async function connectUi(headers: Record<string, string>, on: TestConsole = c): Promise<Ui> {
  const socket = openUiSocket(on.url, headers);
  const events: Ui["events"] = [];
  socket.onAny((name: string) => events.push({ name, at: Date.now() }));
  const disconnectedAt = new Promise<number>((resolve) => socket.once("disconnect", () => resolve(Date.now())));
  await connected(socket);
  return { socket, events, disconnectedAt };
}
/** An audited change: every live /ui socket is told `audit:appended`. */
const auditSomething = () => c.enrollmentToken();
async function expectLive(ui: Ui) {
  const n = ui.events.length;
  await auditSomething();
  await eventually(async () => ui.events.slice(n).some((e) => e.name === "audit:appended"), { what: "audit:appended on the socket", timeoutMs: 5000, intervalMs: 20 });
}
/** Disconnected within 2 s of `since`, and nothing arrives afterwards. */
async function expectDropped(ui: Ui, since: number) {
  const at = await Promise.race([ui.disconnectedAt, new Promise<number>((r) => setTimeout(() => r(-1), 2000))]);
  expect(at, "disconnected within 2 s").toBeGreaterThan(0);
  expect(at - since).toBeLessThan(2000);
  await auditSomething();
  await new Promise((r) => setTimeout(r, 500));
  expect(ui.events.filter((e) => e.at > at)).toEqual([]);
  expect(ui.socket.connected).toBe(false);
}
async function createOperator(username: string, role: string): Promise<string> {
  const r = await admin("/api/v1/operators", { method: "POST", json: { username, password: `${username}-password-1`, role } });
  expect(r.status).toBe(200);
  return ((await r.json()) as { id: string }).id;
}
const sockets: Ui[] = [];
const track = (u: Ui) => (sockets.push(u), u);

beforeAll(async () => {
  c = await startTestConsole({ env: { SPLICER_UI_RECHECK_MS: "1000" } });
});
afterAll(async () => {
  for (const u of sockets) u.socket.close();
  await c?.stop();
});

describe("/ui sockets after revocation", () => {
  it("are dropped when their session logs out; other sessions stay", async () => {
    await createOperator("lena", "viewer");
    const cookie = await c.login("lena", "lena-password-1");
    const other = track(await connectUi({ cookie: await c.login("lena", "lena-password-1") }));
    const ui = track(await connectUi({ cookie }));
    await expectLive(ui);
    const t = Date.now();
    expect((await c.api("/api/v1/auth/logout", { method: "POST", cookie, headers: { origin: c.url } })).status).toBe(200);
    await expectDropped(ui, t);
    await expectLive(other);
  });

  it("are dropped when their API token is revoked", async () => {
    const r = await admin("/api/v1/api-tokens", { method: "POST", json: { name: "dash", role: "viewer" } });
    const { id, token } = (await r.json()) as { id: string; token: string };
    const ui = track(await connectUi({ authorization: `Bearer ${token}` }));
    await expectLive(ui);
    const t = Date.now();
    expect((await admin(`/api/v1/api-tokens/${id}`, { method: "DELETE" })).status).toBe(200);
    await expectDropped(ui, t);
  });

  it("are dropped, session and token sockets alike, when their operator is disabled", async () => {
    const id = await createOperator("max", "admin");
    const cookie = await c.login("max", "max-password-1");
    const tr = await c.api("/api/v1/api-tokens", { method: "POST", cookie, json: { name: "max-ci", role: "viewer" }, headers: { origin: c.url } });
    const { token } = (await tr.json()) as { token: string };
    const viaSession = track(await connectUi({ cookie }));
    const viaToken = track(await connectUi({ authorization: `Bearer ${token}` }));
    await expectLive(viaSession);
    await expectLive(viaToken);
    const t = Date.now();
    expect((await admin(`/api/v1/operators/${id}`, { method: "PATCH", json: { disabled: true } })).status).toBe(200);
    await expectDropped(viaSession, t);
    await expectDropped(viaToken, t);
  });

  it("are dropped by every console process: a logout on one drops the socket held by another", async () => {
    const b = await startTestConsole({ sharing: c, env: { SPLICER_UI_RECHECK_MS: "60000" } });
    try {
      await createOperator("nora", "viewer");
      const cookie = await c.login("nora", "nora-password-1");
      const onB = track(await connectUi({ cookie }, b));
      await expectLive(onB);
      const t = Date.now();
      // Signed out through process A; only the bus tells process B (its re-check is a minute away).
      expect((await c.api("/api/v1/auth/logout", { method: "POST", cookie, headers: { origin: c.url } })).status).toBe(200);
      await expectDropped(onB, t);
    } finally {
      await b.stop();
    }
  });

  it("are dropped by the periodic re-check when a session ends without an event (expiry)", async () => {
    await createOperator("ines", "viewer");
    const cookie = await c.login("ines", "ines-password-1");
    const ui = track(await connectUi({ cookie }));
    await expectLive(ui);
    // Expire it in the database, as time would: no bus event announces that.
    await c.db.query(`update "Session" set "expiresAt" = now() - interval '1 second' where "operatorId" = (select id from "Operator" where username = 'ines')`);
    const t = Date.now();
    // The re-check runs every second here (SPLICER_UI_RECHECK_MS); allow one period more.
    const at = await Promise.race([ui.disconnectedAt, new Promise<number>((r) => setTimeout(() => r(-1), 3000))]);
    expect(at, "disconnected by the re-check").toBeGreaterThan(0);
    expect(at - t).toBeLessThan(3000);
  });
});

describe("/ui handshake Origin", () => {
  it("refuses a foreign Origin, even with a valid session", async () => {
    const cookie = await c.login("admin", c.adminPassword);
    const err = await connectUi({ cookie, origin: "https://evil.example" }).then(
      (u) => (track(u), null),
      (e: Error) => e,
    );
    expect(err?.message).toBe("cross-site connection refused");
    track(await connectUi({ cookie, origin: c.url }));
  });
});
