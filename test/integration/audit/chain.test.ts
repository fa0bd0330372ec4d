// The audit log end to end, against a real console process: operator actions over the HTTP API
// become audit events (who, what, on what, from where), the API's filters and CSV export show
// them faithfully, and the database trigger plus the hash chain catch tampering — both through
// GET /api/v1/audit/verify and through `npm run audit:verify` (scripts/audit-verify.ts).
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEvent } from "../../../lib/api/schemas";
import { runAuditVerifyCli, startTestConsole, type TestConsole } from "../../helpers/console";

interface VerifyResult {
  ok: boolean;
  checked: number;
  firstBadSeq: string | null;
  reason: string | null;
}

const CSV_HEADER = "seq,at,actorType,actorName,actorId,action,targetType,targetId,sourceIp,details,hash";
// A username that is a spreadsheet formula: a failed sign-in writes it into the log verbatim.
const FORMULA_USERNAME = '=hyperlink("http://evil.example","x")';

/** RFC 4180: quoted cells may hold commas, doubled quotes and newlines. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") row.push(cell), (cell = "");
    else if (ch === "\n") row.push(cell), rows.push(row), (row = []), (cell = "");
    else if (ch !== "\r") cell += ch;
  }
  if (cell !== "" || row.length > 0) row.push(cell), rows.push(row);
  return rows;
}

describe("audit log", () => {
  let c: TestConsole;
  let admin: string; // admin's session cookie
  let adminId: string;
  let tokenId: string;
  let operatorId: string;
  let events: AuditEvent[]; // oldest first, after all the actions below
  const json = async <T>(r: Response | Promise<Response>): Promise<T> => {
    const res = await r;
    if (!res.ok) throw new Error(`${res.url}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const list = async (query: Record<string, string> = {}) =>
    (await json<{ items: AuditEvent[]; nextBefore: string | null }>(c.api(`/api/v1/audit?${new URLSearchParams({ limit: "1000", ...query })}`, { cookie: admin }))).items;
  const verify = () => json<VerifyResult>(c.api("/api/v1/audit/verify", { cookie: admin }));
  const one = (action: string, actorName = "admin") => {
    const found = events.filter((e) => e.action === action && e.actorName === actorName);
    expect(found, `${action} by ${actorName}`).toHaveLength(1);
    return found[0];
  };

  beforeAll(async () => {
    c = await startTestConsole();
    admin = await c.login("admin", c.adminPassword);
    adminId = (await json<{ id: string }>(c.api("/api/v1/auth/me", { cookie: admin }))).id;

    const token = await json<{ id: string }>(c.api("/api/v1/enrollment-tokens", { method: "POST", cookie: admin, json: { note: "rack 7", maxUses: 3, expiresInHours: 1 } }));
    tokenId = token.id;
    await json(c.api(`/api/v1/enrollment-tokens/${tokenId}`, { method: "DELETE", cookie: admin }));
    const op = await json<{ id: string }>(c.api("/api/v1/operators", { method: "POST", cookie: admin, json: { username: "auditor", password: "auditor-password-1", role: "viewer" } }));
    operatorId = op.id;
    await json(c.api("/api/v1/settings", { method: "PATCH", cookie: admin, json: { heartbeatIntervalSec: 45 } }));
    const bad = await c.api("/api/v1/auth/login", { method: "POST", cookie: null, json: { username: FORMULA_USERNAME, password: "wrong password" } });
    expect(bad.status).toBe(401);
    await c.login("auditor", "auditor-password-1");

    events = (await list()).reverse();
  });

  afterAll(async () => {
    await c?.stop();
  });

  it("records each operator action with actor, action, target and source IP", () => {
    const byAdmin = { actorType: "operator", actorId: adminId, actorName: "admin", sourceIp: "127.0.0.1" };
    expect(one("auth.login")).toMatchObject({ ...byAdmin, targetType: "operator", targetId: adminId });
    expect(one("enrollment_token.created")).toMatchObject({ ...byAdmin, targetType: "enrollment_token", targetId: tokenId, details: { note: "rack 7", maxUses: 3 } });
    expect(one("enrollment_token.revoked")).toMatchObject({ ...byAdmin, targetType: "enrollment_token", targetId: tokenId });
    expect(one("operator.created")).toMatchObject({ ...byAdmin, targetType: "operator", targetId: operatorId, details: { username: "auditor", role: "viewer" } });
    expect(one("settings.updated")).toMatchObject({
      ...byAdmin,
      targetType: "settings",
      details: { before: { heartbeatIntervalSec: 30 }, after: { heartbeatIntervalSec: 45 } },
    });
    expect(one("auth.login_failed", FORMULA_USERNAME)).toMatchObject({ actorType: "operator", actorId: null, targetId: null, sourceIp: "127.0.0.1" });
    // The console's own start (creating the admin account) is recorded too, with no IP.
    expect(one("operator.created", "system")).toMatchObject({ actorType: "system", targetId: adminId, sourceIp: null });
    expect(one("auth.login", "auditor")).toMatchObject({ actorId: operatorId, sourceIp: "127.0.0.1" });
    // In the order they happened, each chained onto the one before.
    const seqs = events.map((e) => BigInt(e.seq));
    expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : 1)));
    const order = ["enrollment_token.created", "enrollment_token.revoked", "operator.created", "settings.updated", "auth.login_failed"];
    expect(events.filter((e) => e.actorType !== "system" && order.includes(e.action)).map((e) => e.action)).toEqual(order);
  });

  it("filters by actor, action (exact and prefix*), target, and time range", async () => {
    const auditors = await list({ actor: "AUDIT" }); // case-insensitive substring of the actor's name
    expect(auditors.map((e) => `${e.actorName} ${e.action}`)).toEqual(["auditor auth.login"]);

    expect((await list({ action: "settings.updated" })).map((e) => e.action)).toEqual(["settings.updated"]);
    expect((await list({ action: "enrollment_token.*" })).map((e) => e.action)).toEqual(["enrollment_token.revoked", "enrollment_token.created"]);

    const onToken = await list({ targetType: "enrollment_token", targetId: tokenId });
    expect(onToken.map((e) => e.action).sort()).toEqual(["enrollment_token.created", "enrollment_token.revoked"]);
    expect(await list({ targetType: "operator", targetId: "00000000-0000-0000-0000-000000000000" })).toEqual([]);

    const settings = one("settings.updated");
    const exactly = await list({ from: settings.at, to: settings.at });
    expect(exactly.map((e) => e.seq)).toContain(settings.seq);
    for (const e of exactly) expect(e.at).toBe(settings.at);
    const since = await list({ from: settings.at });
    expect(since.every((e) => e.at >= settings.at)).toBe(true);
    expect(since.map((e) => e.action)).toEqual(expect.arrayContaining(["settings.updated", "auth.login_failed"]));
    expect(since.map((e) => e.action)).not.toContain("operator.created");
    const before = new Date(Date.parse(events[0].at) - 1).toISOString();
    expect(await list({ to: before })).toEqual([]);

    const bad = await c.api("/api/v1/audit?from=not-a-date", { cookie: admin });
    expect(bad.status).toBe(400);
  });

  it("pages newest first with `before`", async () => {
    const page1 = await json<{ items: AuditEvent[]; nextBefore: string | null }>(c.api("/api/v1/audit?limit=2", { cookie: admin }));
    expect(page1.items).toHaveLength(2);
    expect(page1.nextBefore).toBe(page1.items[1].seq);
    const page2 = await json<{ items: AuditEvent[] }>(c.api(`/api/v1/audit?limit=2&before=${page1.nextBefore}`, { cookie: admin }));
    const newestFirst = [...events].reverse().map((e) => e.seq);
    expect([...page1.items, ...page2.items].map((e) => e.seq)).toEqual(newestFirst.slice(0, 4));
  });

  it("exports CSV with a header, one row per event, and spreadsheet formulas neutralised", async () => {
    const res = await c.api("/api/v1/audit/export.csv", { cookie: admin });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="splicer-audit-.*\.csv"$/);
    const text = await res.text();
    expect(text.split("\n")[0]).toBe(CSV_HEADER);
    const [header, ...rows] = parseCsv(text);
    expect(rows.map((r) => r[0])).toEqual(events.map((e) => e.seq));
    for (const r of rows) expect(r).toHaveLength(header.length);
    const col = (name: string) => header.indexOf(name);
    const failed = rows.find((r) => r[col("action")] === "auth.login_failed")!;
    // A leading apostrophe makes spreadsheets show the text instead of evaluating it.
    expect(failed[col("actorName")]).toBe(`'${FORMULA_USERNAME}`);
    for (const r of rows) for (const cell of r) expect(cell, `cell ${JSON.stringify(cell)}`).not.toMatch(/^[=+\-@]/);
    const created = rows.find((r) => r[col("action")] === "enrollment_token.created")!;
    expect(JSON.parse(created[col("details")])).toMatchObject({ note: "rack 7", maxUses: 3 });
    expect(created[col("hash")]).toBe(one("enrollment_token.created").hash);

    const filtered = parseCsv(await (await c.api("/api/v1/audit/export.csv?action=enrollment_token.*", { cookie: admin })).text());
    expect(filtered.slice(1).map((r) => r[col("action")])).toEqual(["enrollment_token.created", "enrollment_token.revoked"]);
  });

  describe("tampering", () => {
    let su: pg.Client; // the database superuser: more power than the console ever has
    beforeAll(async () => {
      su = new pg.Client({ connectionString: c.db.superuserUrl });
      await su.connect();
    });
    afterAll(async () => {
      await su?.end();
    });
    /** Changes the log the way an attacker with superuser rights would: past the trigger. */
    const behindTheTrigger = async (sql: string, params: unknown[]) => {
      await su.query("begin");
      try {
        await su.query(`alter table "AuditEvent" disable trigger user`);
        const r = await su.query(sql, params);
        expect(r.rowCount).toBe(1);
        await su.query(`alter table "AuditEvent" enable trigger user`);
        await su.query("commit");
      } catch (err) {
        await su.query("rollback");
        throw err;
      }
    };

    it("an intact chain verifies, over the API and with npm run audit:verify", async () => {
      expect(await verify()).toMatchObject({ ok: true, checked: events.length, firstBadSeq: null, reason: null });
      const cli = await runAuditVerifyCli(c);
      expect(cli, cli.stderr).toMatchObject({ code: 0 });
      expect(cli.stdout).toMatch(new RegExp(`^audit chain OK: ${events.length} events`));
    });

    it("the database refuses UPDATE, DELETE and TRUNCATE of audit events, even from a superuser", async () => {
      const seq = one("settings.updated").seq;
      await expect(su.query(`update "AuditEvent" set details = '{}' where seq = $1`, [seq])).rejects.toThrow(/append-only \(UPDATE refused\)/);
      await expect(su.query(`delete from "AuditEvent" where seq = $1`, [seq])).rejects.toThrow(/append-only \(DELETE refused\)/);
      await expect(su.query(`truncate "AuditEvent"`)).rejects.toThrow(/append-only \(TRUNCATE refused\)/);
      expect((await verify()).ok).toBe(true);
    });

    it("an event edited past the trigger is reported at its seq; restoring it heals the chain", async () => {
      const target = one("settings.updated");
      const { rows } = await su.query<{ details: unknown }>(`select details from "AuditEvent" where seq = $1`, [target.seq]);
      await behindTheTrigger(`update "AuditEvent" set details = jsonb_set(details, '{after,heartbeatIntervalSec}', '3600') where seq = $1`, [target.seq]);

      const broken = await verify();
      expect(broken).toMatchObject({ ok: false, firstBadSeq: target.seq, reason: expect.stringMatching(/content changed/) });
      expect(broken.checked).toBe(events.findIndex((e) => e.seq === target.seq));
      const cli = await runAuditVerifyCli(c);
      expect(cli, cli.stderr).toMatchObject({ code: 1 });
      expect(cli.stdout).toMatch(new RegExp(`^audit chain BROKEN at seq ${target.seq}: content changed`));

      // The hash covers content, not history: the original value verifies again.
      await behindTheTrigger(`update "AuditEvent" set details = $2::jsonb where seq = $1`, [target.seq, JSON.stringify(rows[0].details)]);
      expect((await verify()).ok).toBe(true);
    });

    it("a row deleted from the middle is reported as a broken link at the event after it", async () => {
      const victim = one("operator.created");
      const next = events[events.findIndex((e) => e.seq === victim.seq) + 1];
      await behindTheTrigger(`delete from "AuditEvent" where seq = $1`, [victim.seq]);

      expect(await verify()).toMatchObject({ ok: false, firstBadSeq: next.seq, reason: expect.stringMatching(/link broken/) });
      const cli = await runAuditVerifyCli(c);
      expect(cli, cli.stderr).toMatchObject({ code: 1 });
      expect(cli.stdout).toMatch(new RegExp(`^audit chain BROKEN at seq ${next.seq}: link broken`));
    });
  });
});
