import "server-only";
import { prisma } from "@/lib/db/client";
import { eventHash, GENESIS_HASH } from "./chain";

export interface VerifyResult {
  ok: boolean;
  checked: number;
  /** The first event whose stored hash or link does not match, if any. */
  firstBadSeq: string | null;
  reason: string | null;
}

/** Walks the whole chain in order, in pages, recomputing every hash. */
export async function verifyAuditChain(opts: { pageSize?: number } = {}): Promise<VerifyResult> {
  const pageSize = opts.pageSize ?? 2000;
  let prevHash = GENESIS_HASH;
  let after: bigint = -1n;
  let checked = 0;
  for (;;) {
    const rows = await prisma.auditEvent.findMany({ where: { seq: { gt: after } }, orderBy: { seq: "asc" }, take: pageSize });
    if (rows.length === 0) return { ok: true, checked, firstBadSeq: null, reason: null };
    for (const r of rows) {
      if (r.prevHash !== prevHash) {
        return { ok: false, checked, firstBadSeq: r.seq.toString(), reason: "link broken: an event before it was removed or changed" };
      }
      if (eventHash(prevHash, r) !== r.hash) {
        return { ok: false, checked, firstBadSeq: r.seq.toString(), reason: "content changed after it was written" };
      }
      prevHash = r.hash;
      after = r.seq;
      checked++;
    }
  }
}
