// API tokens die with their owner, never act above them, and always expire.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestConsole, type TestConsole } from "../../helpers/console";

let c: TestConsole;
const admin = (p: string, init: RequestInit & { json?: unknown } = {}) => c.api(p, { ...init, headers: { origin: c.url, ...(init.headers as Record<string, string>) } });
const bearer = (token: string, p: string) => fetch(`${c.url}${p}`, { headers: { authorization: `Bearer ${token}` } });

async function createOperator(username: string, role: string): Promise<string> {
  const r = await admin("/api/v1/operators", { method: "POST", json: { username, password: `${username}-password-1`, role } });
  expect(r.status).toBe(200);
  return ((await r.json()) as { id: string }).id;
}
async function tokenOf(cookie: string, name: string, role: string): Promise<{ id: string; token: string; expiresAt: string }> {
  const r = await c.api("/api/v1/api-tokens", { method: "POST", cookie, json: { name, role }, headers: { origin: c.url } });
  expect(r.status).toBe(200);
  return (await r.json()) as { id: string; token: string; expiresAt: string };
}

beforeAll(async () => {
  c = await startTestConsole();
});
afterAll(async () => c?.stop());

describe("API tokens and their owner", () => {
  it("disabling an operator revokes every token they created and their sessions at once, audited", async () => {
    const adaId = await createOperator("ada", "admin");
    const ada = await c.login("ada", "ada-password-1");
    const t1 = await tokenOf(ada, "ada-ci", "admin");
    const t2 = await tokenOf(ada, "ada-grafana", "viewer");
    expect((await bearer(t1.token, "/api/v1/operators")).status).toBe(200);

    const d = await admin(`/api/v1/operators/${adaId}`, { method: "PATCH", json: { disabled: true } });
    expect(d.status).toBe(200);

    expect((await bearer(t1.token, "/api/v1/operators")).status).toBe(401);
    expect((await bearer(t2.token, "/api/v1/hosts")).status).toBe(401);
    expect((await c.api("/api/v1/auth/me", { cookie: ada })).status).toBe(401);
    // Revoked in the database (not just refused), at the very moment of the disabling.
    const rows = await c.db.query<{ id: string; revokedAt: Date | null; disabledAt: Date }>(
      `select t.id, t."revokedAt", o."disabledAt" from "ApiToken" t join "Operator" o on o.id = t."createdById" where o.id = $1`,
      [adaId],
    );
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r.revokedAt?.getTime()).toBe(r.disabledAt.getTime());
    const [ev] = await c.db.query<{ details: { disabled: boolean; apiTokensRevoked: { id: string }[]; sessionsEnded: number } }>(
      `select details from "AuditEvent" where action = 'operator.updated' and "targetId" = $1 order by seq desc limit 1`,
      [adaId],
    );
    expect(ev.details.disabled).toBe(true);
    expect(ev.details.apiTokensRevoked.map((t) => t.id).sort()).toEqual([t1.id, t2.id].sort());
    expect(ev.details.sessionsEnded).toBeGreaterThanOrEqual(1);
    // Enabling the operator again does not bring their tokens back.
    expect((await admin(`/api/v1/operators/${adaId}`, { method: "PATCH", json: { disabled: false } })).status).toBe(200);
    expect((await bearer(t1.token, "/api/v1/operators")).status).toBe(401);
  });

  it("a token never acts above its creator's current role", async () => {
    const bobId = await createOperator("bob", "admin");
    const bob = await c.login("bob", "bob-password-1");
    const t = await tokenOf(bob, "bob-admin", "admin");
    expect((await bearer(t.token, "/api/v1/operators")).status).toBe(200);
    expect((await admin(`/api/v1/operators/${bobId}`, { method: "PATCH", json: { role: "viewer" } })).status).toBe(200);
    expect((await bearer(t.token, "/api/v1/operators")).status).toBe(403);
    expect((await bearer(t.token, "/api/v1/hosts")).status).toBe(200);
  });

  it("expire after 90 days unless told otherwise, at most a year, never 'never'", async () => {
    const r = await admin("/api/v1/api-tokens", { method: "POST", json: { name: "default-expiry", role: "viewer" } });
    expect(r.status).toBe(200);
    const created = (await r.json()) as { expiresAt: string };
    const days = (new Date(created.expiresAt).getTime() - Date.now()) / 86400_000;
    expect(days).toBeGreaterThan(89.99);
    expect(days).toBeLessThanOrEqual(90);
    const week = await admin("/api/v1/api-tokens", { method: "POST", json: { name: "a-week", role: "viewer", expiresInDays: 7 } });
    expect(Math.round((new Date(((await week.json()) as { expiresAt: string }).expiresAt).getTime() - Date.now()) / 86400_000)).toBe(7);
    for (const expiresInDays of [3650, 366, null, 0]) {
      const bad = await admin("/api/v1/api-tokens", { method: "POST", json: { name: "too-long", role: "viewer", expiresInDays } });
      expect(bad.status, String(expiresInDays)).toBe(400);
      expect((await bad.json()).error.message).toMatch(/expiresInDays/);
    }
    const listed = (await (await c.api("/api/v1/api-tokens")).json()).items as { expiresAt: string | null }[];
    expect(listed.every((t) => typeof t.expiresAt === "string")).toBe(true);
  });

  it("the OpenAPI document says so", async () => {
    const doc = await (await fetch(`${c.url}/api/v1/openapi.json`)).json();
    const create = doc.paths["/api/v1/api-tokens"].post;
    expect(JSON.stringify(create)).toMatch(/"maximum":365/);
    expect(JSON.stringify(create)).toMatch(/"default":90/);
    expect(JSON.stringify(doc.paths["/api/v1/api-tokens"].get)).not.toMatch(/"expiresAt":\{[^}]*null/);
  });
});
