// Operators, roles, API tokens, CSRF and login rate limiting, over the real HTTP API.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestConsole, type TestConsole } from "../../helpers/console";

let c: TestConsole;
let viewer: string;
let operator: string;
const as = (cookie: string, p: string, init: RequestInit & { json?: unknown } = {}) =>
  c.api(p, { ...init, cookie, headers: { origin: c.url, ...(init.headers as Record<string, string>) } });

beforeAll(async () => {
  c = await startTestConsole();
  for (const [username, role] of [["vera", "viewer"], ["otto", "operator"]]) {
    const r = await c.api("/api/v1/operators", { method: "POST", json: { username, password: `${username}-password-1`, role }, headers: { origin: c.url } });
    expect(r.status).toBe(200);
  }
  viewer = await c.login("vera", "vera-password-1");
  operator = await c.login("otto", "otto-password-1");
});
afterAll(async () => c?.stop());

describe("roles", () => {
  it("a viewer can read the fleet but cannot create enrollment tokens or change anything", async () => {
    expect((await as(viewer, "/api/v1/hosts")).status).toBe(200);
    expect((await as(viewer, "/api/v1/fleet/summary")).status).toBe(200);
    const r = await as(viewer, "/api/v1/enrollment-tokens", { method: "POST", json: {} });
    expect(r.status).toBe(403);
    expect((await r.json()).error.message).toMatch(/admin role; you are viewer/);
    expect((await as(viewer, "/api/v1/settings", { method: "PATCH", json: { heartbeatIntervalSec: 10 } })).status).toBe(403);
    expect((await as(viewer, "/api/v1/operators")).status).toBe(403);
  });

  it("an operator can do operator things but not admin things", async () => {
    expect((await as(operator, "/api/v1/enrollment-tokens", { method: "POST", json: {} })).status).toBe(403);
    expect((await as(operator, "/api/v1/api-tokens", { method: "POST", json: { name: "x", role: "viewer" } })).status).toBe(403);
    expect((await as(operator, "/api/v1/auth/me")).status).toBe(200);
  });

  it("refuses requests without a session, and sessions of disabled operators", async () => {
    expect((await c.api("/api/v1/hosts", { cookie: null })).status).toBe(401);
    const [vera] = ((await (await c.api("/api/v1/operators")).json()).items as { id: string; username: string }[]).filter((o) => o.username === "vera");
    const d = await c.api(`/api/v1/operators/${vera.id}`, { method: "PATCH", json: { disabled: true }, headers: { origin: c.url } });
    expect(d.status).toBe(200);
    expect((await as(viewer, "/api/v1/hosts")).status).toBe(401);
    const relogin = await fetch(`${c.url}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "vera", password: "vera-password-1" }) });
    expect(relogin.status).toBe(401);
  });

  it("will not demote or disable the last admin", async () => {
    const admin = ((await (await c.api("/api/v1/operators")).json()).items as { id: string; username: string }[]).find((o) => o.username === "admin")!;
    const r = await c.api(`/api/v1/operators/${admin.id}`, { method: "PATCH", json: { role: "viewer" }, headers: { origin: c.url } });
    expect(r.status).toBe(409);
    expect((await r.json()).error.message).toMatch(/last active admin/);
  });
});

describe("API tokens", () => {
  it("authenticate automation with a Bearer token limited to the token's role, until revoked", async () => {
    const created = await c.api("/api/v1/api-tokens", { method: "POST", json: { name: "ci-readonly", role: "viewer" }, headers: { origin: c.url } });
    expect(created.status).toBe(200);
    const { id, token } = (await created.json()) as { id: string; token: string };
    expect(token).toMatch(/^spl_api_/);
    const bearer = { authorization: `Bearer ${token}` };
    expect((await fetch(`${c.url}/api/v1/hosts`, { headers: bearer })).status).toBe(200);
    const write = await fetch(`${c.url}/api/v1/enrollment-tokens`, { method: "POST", headers: { ...bearer, "content-type": "application/json" }, body: "{}" });
    expect(write.status).toBe(403);
    const listed = (await (await c.api("/api/v1/api-tokens")).json()).items as { id: string; lastUsedAt: string | null; prefix: string }[];
    expect(listed.find((t) => t.id === id)?.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(listed)).not.toContain(token);
    expect((await c.api(`/api/v1/api-tokens/${id}`, { method: "DELETE", headers: { origin: c.url } })).status).toBe(200);
    expect((await fetch(`${c.url}/api/v1/hosts`, { headers: bearer })).status).toBe(401);
  });

  it("an admin's token may write without an Origin header; a browser session may not write cross-site", async () => {
    const { token } = (await (await c.api("/api/v1/api-tokens", { method: "POST", json: { name: "ci-admin", role: "admin" }, headers: { origin: c.url } })).json()) as { token: string };
    const viaToken = await fetch(`${c.url}/api/v1/enrollment-tokens`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: "{}" });
    expect(viaToken.status).toBe(200);
    const forged = await c.api("/api/v1/enrollment-tokens", { method: "POST", json: {}, headers: { origin: "https://evil.example" } });
    expect(forged.status).toBe(403);
    expect((await forged.json()).error.code).toBe("csrf");
  });
});

describe("login", () => {
  it("sets an httpOnly session cookie and records the sign-in", async () => {
    const r = await fetch(`${c.url}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "otto", password: "otto-password-1" }) });
    expect(r.status).toBe(200);
    const cookie = r.headers.getSetCookie().find((x) => x.startsWith("splicer_session="))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=lax/i);
    const rows = await c.db.query(`select 1 from "AuditEvent" where action = 'auth.login' and "actorName" = 'otto'`);
    expect(rows.length).toBeGreaterThanOrEqual(2);
  });
  // Throttling: test/integration/auth/login-throttle.test.ts.
});
