import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkpointLine } from "@/lib/audit/anchor";
import { auditKeyPath, checkpointPath, loadAuditKey, readAuditKey, readCheckpoints } from "@/lib/audit/anchor-store";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "splicer-anchor-"));

describe("the audit key", () => {
  it("is created once, 0600 in a 0700 directory, even when many loaders race for it", async () => {
    const dir = tmp();
    expect(await readAuditKey({ dataDir: dir })).toBeNull();
    // Distinct spellings of one directory bypass the per-process cache, like separate processes.
    const keys = await Promise.all(Array.from({ length: 8 }, (_, i) => loadAuditKey({ dataDir: dir + "/.".repeat(i) })));
    expect(new Set(keys.map((k) => k.toString("hex"))).size).toBe(1);
    expect(keys[0]).toHaveLength(32);
    expect(fs.statSync(auditKeyPath(dir)).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(auditKeyPath(dir))).mode & 0o777).toBe(0o700);
    expect(fs.readdirSync(path.dirname(auditKeyPath(dir)))).toEqual(["audit-anchor.key"]); // no temp files left
    expect((await readAuditKey({ dataDir: dir }))!.equals(keys[0])).toBe(true);
  });

  it("refuses a file that is not a key rather than using or replacing it", async () => {
    const dir = tmp();
    fs.mkdirSync(path.dirname(auditKeyPath(dir)), { recursive: true });
    fs.writeFileSync(auditKeyPath(dir), "not a key\n");
    await expect(readAuditKey({ dataDir: dir })).rejects.toThrow(/is not an audit key/);
    await expect(loadAuditKey({ dataDir: dir })).rejects.toThrow(/is not an audit key/);
    expect(fs.readFileSync(auditKeyPath(dir), "utf8")).toBe("not a key\n");
  });
});

describe("readCheckpoints", () => {
  it("says when there is no file, and sorts lines into valid, forged and unreadable", async () => {
    const dir = tmp();
    const key = await loadAuditKey({ dataDir: dir });
    expect(await readCheckpoints({ dataDir: dir, key })).toEqual({ valid: [], forgedLines: [], unreadableLines: [], exists: false });
    fs.mkdirSync(path.dirname(checkpointPath(dir)), { recursive: true });
    const good = checkpointLine(key, { seq: 5n, hash: "a".repeat(64), at: "2026-12-01T00:00:00.000Z" });
    const other = checkpointLine(Buffer.alloc(32, 1), { seq: 6n, hash: "b".repeat(64), at: "2026-12-01T00:00:01.000Z" });
    fs.writeFileSync(checkpointPath(dir), good + other + "garbage\n");
    const log = await readCheckpoints({ dataDir: dir, key });
    expect(log).toMatchObject({ exists: true, forgedLines: [2], unreadableLines: [3] });
    expect(log.valid.map((c) => c.seq)).toEqual([5n]);
  });
});
