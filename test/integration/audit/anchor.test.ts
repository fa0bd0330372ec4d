// The audit chain's anchors outside the database (lib/audit/anchor.ts, anchor-store.ts), against a
// real console and its real database: someone with superuser access to the database (who can
// switch the append-only trigger off and knows the chain's hash function) deletes the newest
// events or rewrites an event and recomputes every later hash; both are found by
// GET /api/v1/audit/verify and `npm run audit:verify`, which read the key and the checkpoints
// from the console's data dir. Each attack is undone afterwards (database rows and checkpoint
// file restored as a backup would), so the tests are independent.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventHash, type ChainedFields } from "../../../lib/audit/chain";
import type { VerifyResult } from "../../../lib/audit/verify";
import { eventually, runAuditVerifyCli, startTestConsole, type TestConsole } from "../../helpers/console";

interface Row extends ChainedFields {
  seq: string;
  prevHash: string;
  hash: string;
  mac: string | null;
}

describe("audit chain anchored outside the database", () => {
  let c: TestConsole;
  let su: pg.Client; // the database superuser: more power than the console ever has
  let checkpointFile: string;

  const verify = async (): Promise<VerifyResult> => {
    const r = await c.api("/api/v1/audit/verify");
    expect(r.status).toBe(200);
    return (await r.json()) as VerifyResult;
  };
  const rows = async () => (await su.query<Row>(`select * from "AuditEvent" order by seq`)).rows;
  /** Waits until the newest event is checkpointed (the writer runs shortly after each commit). */
  const anchored = async () => {
    const all = await rows();
    const head = all[all.length - 1];
    await eventually(async () => (await verify()).anchor.latest?.seq === head.seq, { what: `a checkpoint of seq ${head.seq}`, timeoutMs: 10_000 });
    return all;
  };
  /** Changes the log as an attacker with superuser rights would: past the trigger, in one transaction. */
  const behindTheTrigger = async (work: () => Promise<void>) => {
    await su.query("begin");
    try {
      await su.query(`alter table "AuditEvent" disable trigger user`);
      await work();
      await su.query(`alter table "AuditEvent" enable trigger user`);
      await su.query("commit");
    } catch (err) {
      await su.query("rollback");
      throw err;
    }
  };
  /** What afterEach puts back: the rows and the checkpoint file as a test found them. */
  let saved: { snapshot: Row[]; file: string } | null = null;
  /** Waits for the newest event's checkpoint, then saves the log's state for afterEach. */
  const save = async () => {
    const snapshot = await anchored();
    saved = { snapshot, file: fs.readFileSync(checkpointFile, "utf8") };
    return saved;
  };
  /** Puts the rows and the checkpoint file back as they were (a restore from backup). */
  const restore = async ({ snapshot, file }: { snapshot: Row[]; file: string }) => {
    await behindTheTrigger(async () => {
      await su.query(`delete from "AuditEvent"`);
      await su.query(`insert into "AuditEvent" select * from json_populate_recordset(null::"AuditEvent", $1::json)`, [JSON.stringify(snapshot)]);
    });
    fs.writeFileSync(checkpointFile, file);
    expect(await verify()).toMatchObject({ ok: true, checked: snapshot.length });
  };

  beforeAll(async () => {
    c = await startTestConsole();
    su = new pg.Client({ connectionString: c.db.url });
    await su.connect();
    checkpointFile = path.join(c.dataDir, "audit", "checkpoints.jsonl");
    for (const note of ["rack 1", "rack 2", "rack 3", "rack 4"]) {
      const r = await c.api("/api/v1/enrollment-tokens", { method: "POST", json: { note, maxUses: 1, expiresInHours: 1 } });
      expect(r.status).toBe(200);
    }
    const s = await c.api("/api/v1/settings", { method: "PATCH", json: { heartbeatIntervalSec: 45 } });
    expect(s.status).toBe(200);
    for (const note of ["rack 5", "rack 6"]) await c.api("/api/v1/enrollment-tokens", { method: "POST", json: { note, maxUses: 1, expiresInHours: 1 } });
  });

  afterEach(async () => {
    const s = saved;
    saved = null;
    if (s) await restore(s);
  });

  afterAll(async () => {
    await su?.end();
    await c?.stop();
  });

  it("an untouched log verifies, its newest event checkpointed; key and checkpoints are private files", async () => {
    const all = await anchored();
    const head = all[all.length - 1];
    const result = await verify();
    expect(result).toMatchObject({ ok: true, checked: all.length, firstBadSeq: null, reason: null, problem: null, truncation: null });
    expect(result.anchor).toMatchObject({ latest: { seq: head.seq, hash: head.hash }, forgedLines: [], unreadableLines: [] });
    // Every event the console wrote carries a MAC.
    expect(all.filter((r) => r.mac === null)).toEqual([]);
    expect(fs.statSync(checkpointFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(c.dataDir, "keys", "audit-anchor.key")).mode & 0o777).toBe(0o600);

    const cli = await runAuditVerifyCli(c, ["--checkpoint"]);
    expect(cli, cli.stderr).toMatchObject({ code: 0 });
    expect(cli.stdout).toMatch(new RegExp(`^audit chain OK: ${all.length} events, \\d+ checkpoints; newest checkpoint at seq ${head.seq}`));
    // The exported line is the checkpoint as written, to be kept elsewhere.
    const exported = cli.stdout.trim().split("\n").at(-1)!;
    expect(JSON.parse(exported)).toEqual(result.anchor.latest);
    expect(fs.readFileSync(checkpointFile, "utf8")).toContain(exported);
  });

  it("deleting the newest events past the trigger is detected, also after the console appends more", async () => {
    const { snapshot } = await save();
    const head = snapshot[snapshot.length - 1];
    const keep = snapshot[snapshot.length - 4];
    await behindTheTrigger(async () => {
      const r = await su.query(`delete from "AuditEvent" where seq > $1`, [keep.seq]);
      expect(r.rowCount).toBe(3);
    });
    // The rest of the chain is perfectly linked: only the anchor shows what happened.
    const result = await verify();
    expect(result).toMatchObject({
      ok: false,
      problem: "truncated",
      firstBadSeq: null,
      checked: snapshot.length - 3,
      truncation: { lastSeq: keep.seq, checkpointSeq: head.seq },
      reason: expect.stringMatching(new RegExp(`^the newest events were removed after the checkpoint at seq ${head.seq} .*ends at seq ${keep.seq}`)),
    });
    const cli = await runAuditVerifyCli(c);
    expect(cli, cli.stderr).toMatchObject({ code: 1 });
    expect(cli.stdout).toMatch(new RegExp(`^audit chain BROKEN: the newest events were removed after the checkpoint at seq ${head.seq}`));

    // The console carries on from the shortened chain; the checkpointed event is still missing.
    const r = await c.api("/api/v1/enrollment-tokens", { method: "POST", json: { note: "after", maxUses: 1, expiresInHours: 1 } });
    expect(r.status).toBe(200);
    const after = await verify();
    expect(after).toMatchObject({ ok: false, problem: "checkpoint", reason: expect.stringMatching(/is missing: it was deleted/) });
    // The first deleted event that a checkpoint recorded (the head's, or an earlier one's).
    expect(snapshot.slice(-3).map((r) => r.seq)).toContain(after.firstBadSeq);

    await anchored(); // its checkpoint is written before afterEach restores the file
  });

  it("changing an event and recomputing every later hash with the chain's own code is detected at that event", async () => {
    const { snapshot } = await save();
    const at = snapshot.findIndex((r) => r.action === "settings.updated");
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(snapshot.length - 1);
    const target = snapshot[at];

    /** Rewrites the target's details and re-links every later event, as the console's code would. */
    const rewrite = async (mac: (r: Row) => string | null) => {
      await behindTheTrigger(async () => {
        let prevHash = snapshot[at - 1].hash;
        for (const r of snapshot.slice(at)) {
          const details = r.seq === target.seq ? { before: { heartbeatIntervalSec: 30 }, after: { heartbeatIntervalSec: 3600 } } : r.details;
          const hash = eventHash(prevHash, { ...r, details });
          await su.query(`update "AuditEvent" set details = $2::jsonb, "prevHash" = $3, hash = $4, mac = $5 where seq = $1`, [r.seq, JSON.stringify(details), prevHash, hash, mac(r)]);
          prevHash = hash;
        }
      });
    };

    // Keeping the old MACs (the attacker cannot compute new ones).
    await rewrite((r) => r.mac);
    const result = await verify();
    expect(result).toMatchObject({ ok: false, problem: "mac", firstBadSeq: target.seq, checked: at, reason: expect.stringMatching(/MAC does not match/) });
    const cli = await runAuditVerifyCli(c);
    expect(cli, cli.stderr).toMatchObject({ code: 1 });
    expect(cli.stdout).toMatch(new RegExp(`^audit chain BROKEN at seq ${target.seq}: its MAC does not match`));

    // Dropping the MACs instead, to pass as events from before anchoring.
    await rewrite(() => null);
    expect(await verify()).toMatchObject({ ok: false, problem: "unanchored", firstBadSeq: target.seq });

  });

  it("a forged checkpoint line is detected, naming its line", async () => {
    const { snapshot, file } = await save();
    const head = snapshot[snapshot.length - 1];
    const lines = file.trimEnd().split("\n").length;
    const forged = { seq: String(BigInt(head.seq) + 5n), hash: crypto.randomBytes(32).toString("hex"), at: new Date().toISOString(), mac: crypto.randomBytes(32).toString("hex") };
    fs.appendFileSync(checkpointFile, JSON.stringify(forged) + "\n");

    const result = await verify();
    expect(result).toMatchObject({ ok: false, problem: "forged_checkpoint", checked: snapshot.length, anchor: { forgedLines: [lines + 1] } });
    expect(result.reason).toContain(`checkpoint line ${lines + 1} of`);
    // A forged line is not trusted either: it does not make the log look truncated.
    expect(result.anchor.latest?.seq).toBe(head.seq);
    const cli = await runAuditVerifyCli(c);
    expect(cli, cli.stderr).toMatchObject({ code: 1 });
    expect(cli.stdout).toMatch(/^audit chain BROKEN: checkpoint line \d+ of .* is not signed with this console's audit key/);

  });

  it("an exported checkpoint kept elsewhere (--against) still shows removed events after the data dir's checkpoint file was emptied", async () => {
    const { snapshot } = await save();
    const kept = path.join(c.dataDir, "..", `kept-${crypto.randomBytes(4).toString("hex")}.jsonl`);
    // The operator keeps the newest checkpoint as exported (API or `audit:verify --checkpoint`).
    fs.writeFileSync(kept, JSON.stringify((await verify()).anchor.latest) + "\n");
    // The whole checkpoint file is lost (worst case for the file itself); the rest is intact.
    fs.writeFileSync(checkpointFile, "");
    await behindTheTrigger(async () => {
      await su.query(`delete from "AuditEvent" where seq = $1`, [snapshot[snapshot.length - 1].seq]);
    });
    expect((await runAuditVerifyCli(c)).code).toBe(0); // nothing in the data dir remembers the head any more
    const cli = await runAuditVerifyCli(c, ["--against", kept]);
    expect(cli, cli.stderr).toMatchObject({ code: 1 });
    expect(cli.stdout).toMatch(/the newest events were removed after the checkpoint/);
    fs.rmSync(kept);
  });

  it("a log written before anchoring (no MACs, no checkpoints) verifies after the console starts, and is then protected", async () => {
    // Simulate the upgrade: the console stopped, its events as the old code wrote them, no anchors.
    await c.kill();
    await behindTheTrigger(async () => {
      await su.query(`update "AuditEvent" set mac = null`);
    });
    fs.rmSync(path.join(c.dataDir, "audit"), { recursive: true, force: true });
    fs.rmSync(path.join(c.dataDir, "keys", "audit-anchor.key"));
    const legacy = await rows();
    await c.restart();

    const all = await anchored();
    expect(all.length).toBeGreaterThan(legacy.length); // the restart's own events, with MACs
    expect(all.slice(legacy.length).every((r) => r.mac !== null)).toBe(true);
    expect(await verify()).toMatchObject({ ok: true, checked: all.length });

    // Rewriting an old event now shows up at the first checkpoint, which covers the old events.
    const target = legacy[2];
    await behindTheTrigger(async () => {
      let prevHash = legacy[1].hash;
      for (const r of all.slice(2)) {
        const actorName = r.seq === target.seq ? "somebody else" : r.actorName;
        const hash = eventHash(prevHash, { ...r, actorName });
        await su.query(`update "AuditEvent" set "actorName" = $2, "prevHash" = $3, hash = $4 where seq = $1`, [r.seq, actorName, prevHash, hash]);
        prevHash = hash;
      }
    });
    const result = await verify();
    expect(result.ok).toBe(false);
    expect(["checkpoint", "mac"]).toContain(result.problem);
  });
});
