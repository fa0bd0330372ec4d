import "server-only";
import path from "node:path";
import type { AuditVerify } from "@/lib/api/schemas";
import { dataDir as defaultDataDir } from "@/lib/config";
import { prisma } from "@/lib/db/client";
import { ChainCheck, parseCheckpointLog, type Finding, type SignedCheckpoint } from "./anchor";
import { auditKeyPath, checkpointPath, readAuditKey, readCheckpoints } from "./anchor-store";

/** The API's own shape (lib/api/schemas/audit.ts, AuditVerifySchema). */
export type VerifyResult = AuditVerify;

function latestOf(cps: SignedCheckpoint[]): VerifyResult["anchor"]["latest"] {
  const cp = cps.reduce<SignedCheckpoint | null>((best, c) => (best === null || c.seq > best.seq ? c : best), null);
  return cp && { seq: cp.seq.toString(), hash: cp.hash, at: cp.at, mac: cp.mac };
}

/**
 * Walks the whole chain in order, in pages, recomputing every hash and checking every MAC and
 * checkpoint against the anchors in the data dir. `extraCheckpoints`: checkpoint lines kept
 * elsewhere by an operator (same format), checked like the file's own.
 */
export async function verifyAuditChain(opts: { pageSize?: number; dataDir?: string; extraCheckpoints?: string } = {}): Promise<VerifyResult> {
  const pageSize = opts.pageSize ?? 2000;
  const dataDir = opts.dataDir ?? defaultDataDir();
  const key = await readAuditKey({ dataDir });
  // Named relative to the data dir: viewers see the result, and the server's paths are not theirs to know.
  const inDataDir = (file: string) => path.join("<data dir>", path.relative(dataDir, file));
  const anchor: VerifyResult["anchor"] = { checkpointFile: inDataDir(checkpointPath(dataDir)), checkpoints: 0, latest: null, forgedLines: [], unreadableLines: [] };
  const result = (checked: number, f: Finding | null): VerifyResult => ({
    ok: f === null,
    checked,
    firstBadSeq: f?.seq ?? null,
    reason: f?.reason ?? null,
    problem: f?.problem ?? null,
    truncation: f?.truncation ?? null,
    anchor,
  });

  if (!key) {
    // A console that has run with anchoring always has a key; a log without one was never
    // anchored, or this is the wrong data dir.
    const any = await prisma.auditEvent.findFirst({ select: { seq: true } });
    if (!any) return result(0, null);
    return result(0, { problem: "key_missing", seq: null, reason: `there is no audit key (${inDataDir(auditKeyPath(dataDir))}): this is not the console's data dir (SPLICER_DATA_DIR), or the console has not started since anchoring was added (its first start anchors the existing log)` });
  }
  const file = await readCheckpoints({ dataDir, key });
  const extra = opts.extraCheckpoints ? parseCheckpointLog(opts.extraCheckpoints, key) : null;
  const checkpoints = [...file.valid, ...(extra?.valid ?? [])];
  Object.assign(anchor, { checkpoints: file.valid.length, latest: latestOf(file.valid), forgedLines: file.forgedLines, unreadableLines: file.unreadableLines });

  if (!file.exists && (await prisma.auditEvent.findFirst({ select: { seq: true } }))) {
    // The console writes one at start, before it serves anything: without it nothing shows
    // whether the newest events are still there.
    return result(0, { problem: "unanchored", seq: null, reason: `there is no checkpoint file at ${anchor.checkpointFile}: it was deleted, or this is not the console's data dir (SPLICER_DATA_DIR)` });
  }
  const check = new ChainCheck({ key, checkpoints });
  let after = -1n;
  for (;;) {
    const rows = await prisma.auditEvent.findMany({ where: { seq: { gt: after } }, orderBy: { seq: "asc" }, take: pageSize });
    if (rows.length === 0) break;
    for (const r of rows) {
      const f = check.feed(r);
      if (f) return result(check.checked, f);
    }
    after = rows[rows.length - 1].seq;
  }
  const end = check.finish();
  if (end) return result(check.checked, end);
  if (file.forgedLines.length > 0) {
    return result(check.checked, {
      problem: "forged_checkpoint",
      seq: null,
      reason: `checkpoint line ${file.forgedLines.join(", ")} of ${anchor.checkpointFile} is not signed with this console's audit key: forged, or copied from another data dir`,
    });
  }
  if (extra && extra.forgedLines.length + extra.unreadableLines.length > 0) {
    return result(check.checked, { problem: "forged_checkpoint", seq: null, reason: `the given checkpoint line ${[...extra.forgedLines, ...extra.unreadableLines].sort((x, y) => x - y).join(", ")} is not signed with this console's audit key` });
  }
  return result(check.checked, null);
}
