import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { ChainCheck, checkpointLine, eventMac, parseCheckpointLog, type AnchoredRow, type Finding, type SignedCheckpoint } from "@/lib/audit/anchor";
import { eventHash, GENESIS_HASH } from "@/lib/audit/chain";

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 8);

/** A chain as the console writes it; seqs have gaps, as a sequence does after rolled-back inserts. */
function chain(n: number, opts: { legacy?: number; key?: Buffer } = {}): AnchoredRow[] {
  const rows: AnchoredRow[] = [];
  let prevHash = GENESIS_HASH;
  for (let i = 0; i < n; i++) {
    const fields = { at: new Date(Date.UTC(2026, 11, 1, 0, 0, i)), actorType: "operator", actorId: null, actorName: "alice", action: `a.${i}`, targetType: null, targetId: null, details: { i }, sourceIp: null };
    const hash = eventHash(prevHash, fields);
    rows.push({ ...fields, seq: BigInt(i * 2 + 1), prevHash, hash, mac: i < (opts.legacy ?? 0) ? null : eventMac(opts.key ?? KEY, hash) });
    prevHash = hash;
  }
  return rows;
}

/** Re-links every row from `from` on after `change`, as someone with the chain code but not the key would. */
function rewrite(rows: AnchoredRow[], from: number, change: (r: AnchoredRow) => AnchoredRow): AnchoredRow[] {
  const out = rows.slice(0, from);
  let prevHash = from === 0 ? GENESIS_HASH : rows[from - 1].hash;
  for (const r of rows.slice(from)) {
    const c = r === rows[from] ? change(r) : r;
    const hash = eventHash(prevHash, c);
    out.push({ ...c, prevHash, hash });
    prevHash = hash;
  }
  return out;
}

function cp(r: AnchoredRow, key = KEY): SignedCheckpoint {
  const line = checkpointLine(key, { seq: r.seq, hash: r.hash, at: r.at.toISOString() });
  return JSON.parse(line, (k, v) => (k === "seq" ? BigInt(v) : v)) as SignedCheckpoint;
}

function run(rows: AnchoredRow[], checkpoints: SignedCheckpoint[]): { finding: Finding | null; checked: number } {
  const check = new ChainCheck({ key: KEY, checkpoints });
  for (const r of rows) {
    const f = check.feed(r);
    if (f) return { finding: f, checked: check.checked };
  }
  return { finding: check.finish(), checked: check.checked };
}

describe("checkpoint lines", () => {
  it("round-trip through the log parser when the key matches", () => {
    const rows = chain(3);
    const text = rows.map((r) => checkpointLine(KEY, { seq: r.seq, hash: r.hash, at: r.at.toISOString() })).join("");
    expect(text.split("\n")).toHaveLength(4);
    const log = parseCheckpointLog(text, KEY);
    expect(log.valid.map((c) => [c.seq, c.hash])).toEqual(rows.map((r) => [r.seq, r.hash]));
    expect(log).toMatchObject({ forgedLines: [], unreadableLines: [] });
  });

  it("are forged when their MAC is wrong, another key made them, or a field was changed", () => {
    const [r] = chain(1);
    const good = checkpointLine(KEY, { seq: r.seq, hash: r.hash, at: "2026-12-01T00:00:00.000Z" });
    const changedSeq = good.replace(`"seq":"${r.seq}"`, `"seq":"${r.seq + 10n}"`);
    const otherKey = checkpointLine(OTHER_KEY, { seq: r.seq, hash: r.hash, at: "2026-12-01T00:00:00.000Z" });
    const randomMac = JSON.stringify({ seq: "1", hash: r.hash, at: "2026-12-01T00:00:00.000Z", mac: crypto.randomBytes(32).toString("hex") }) + "\n";
    const log = parseCheckpointLog(good + changedSeq + otherKey + randomMac, KEY);
    expect(log.valid).toHaveLength(1);
    expect(log.forgedLines).toEqual([2, 3, 4]);
  });

  it("that are not checkpoints at all (a cut-short write) are set aside by line number", () => {
    const [r] = chain(1);
    const good = checkpointLine(KEY, { seq: r.seq, hash: r.hash, at: "2026-12-01T00:00:00.000Z" });
    const log = parseCheckpointLog(`${good}not json\n{"seq":"x"}\n${good.slice(0, 30)}`, KEY);
    expect(log.valid).toHaveLength(1);
    expect(log.unreadableLines).toEqual([2, 3, 4]);
    expect(log.forgedLines).toEqual([]);
  });
});

describe("eventMac", () => {
  it("depends on the key and the hash", () => {
    const h = "a".repeat(64);
    expect(eventMac(KEY, h)).toMatch(/^[0-9a-f]{64}$/);
    expect(eventMac(KEY, h)).not.toBe(eventMac(OTHER_KEY, h));
    expect(eventMac(KEY, h)).not.toBe(eventMac(KEY, "b".repeat(64)));
  });
});

describe("ChainCheck", () => {
  it("passes an intact chain, its head checkpointed or ahead of the newest checkpoint", () => {
    const rows = chain(6);
    expect(run(rows, [cp(rows[2]), cp(rows[5])])).toEqual({ finding: null, checked: 6 });
    expect(run(rows, [cp(rows[2]), cp(rows[2])])).toEqual({ finding: null, checked: 6 });
    expect(run(rows, [])).toEqual({ finding: null, checked: 6 });
  });

  it("finds the newest events removed after a checkpoint, naming where the log ends", () => {
    const rows = chain(6);
    const { finding, checked } = run(rows.slice(0, 3), [cp(rows[1]), cp(rows[5])]);
    expect(checked).toBe(3);
    expect(finding).toMatchObject({ problem: "truncated", seq: null, truncation: { lastSeq: "5", checkpointSeq: "11" } });
    expect(finding!.reason).toMatch(/^the newest events were removed after the checkpoint at seq 11 .*ends at seq 5, so events #6…#11 \(up to 6\) are gone/);
    expect(run([], [cp(rows[0])]).finding).toMatchObject({ problem: "truncated", truncation: { lastSeq: null, checkpointSeq: "1" }, reason: expect.stringMatching(/the log is empty/) });
  });

  it("finds a chain cut at a checkpoint and grown again from the cut", () => {
    const rows = chain(6);
    // The console appends after the cut: new events (new seqs) chained onto the last kept one.
    const regrown = rewrite(rows, 3, (r) => ({ ...r, action: "after.cut" })).map((r, i) => (i < 3 ? r : { ...r, seq: r.seq + 100n, mac: eventMac(KEY, r.hash) }));
    expect(regrown.slice(3).map((r) => r.seq)).toEqual([107n, 109n, 111n]);
    expect(run(regrown, [cp(rows[2])]).finding).toBeNull();
    expect(run(regrown, [cp(rows[4])]).finding).toMatchObject({ problem: "checkpoint", seq: "9", reason: expect.stringMatching(/is missing: it was deleted/) });
  });

  it("finds an event changed and every later hash recomputed without the key, at that event", () => {
    const rows = chain(6);
    const forged = rewrite(rows, 2, (r) => ({ ...r, actorName: "mallory" }));
    expect(run(forged, [])).toMatchObject({ checked: 2, finding: { problem: "mac", seq: "5" } });
    // Recomputed MACs with a guessed key fail the same way.
    expect(run(forged.map((r) => ({ ...r, mac: eventMac(OTHER_KEY, r.hash) })), [])).toMatchObject({ checked: 0, finding: { problem: "mac", seq: "1" } });
    // Dropping the MACs to pass as events from before anchoring does not work either.
    expect(run(forged.map((r, i) => (i >= 2 ? { ...r, mac: null } : r)), [cp(rows[5])])).toMatchObject({ finding: { problem: "unanchored", seq: "5" } });
  });

  it("accepts events from before anchoring (no MAC) up to the first checkpoint, and no further", () => {
    const rows = chain(6, { legacy: 3 });
    expect(run(rows, [cp(rows[2])])).toEqual({ finding: null, checked: 6 });
    expect(run(rows, [cp(rows[1]), cp(rows[5])]).finding).toMatchObject({ problem: "unanchored", seq: "5" });
    expect(run(rows, []).finding).toMatchObject({ problem: "unanchored", seq: "1" });
    // A rewrite of those old events changes the hash the first checkpoint recorded.
    const forged = rewrite(rows, 1, (r) => ({ ...r, actorName: "mallory" })).map((r, i) => (i < 3 ? { ...r, mac: null } : r));
    expect(run(forged, [cp(rows[2])]).finding).toMatchObject({ problem: "checkpoint", seq: "5", reason: expect.stringMatching(/does not match the checkpoint/) });
  });

  it("reports a deletion in the middle as a broken link, even of a checkpointed event", () => {
    const rows = chain(6);
    expect(run([...rows.slice(0, 2), ...rows.slice(3)], [cp(rows[2])]).finding).toMatchObject({ problem: "link", seq: "7" });
  });
});
