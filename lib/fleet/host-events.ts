import "server-only";
import { prisma } from "@/lib/db/client";

/**
 * Deletes host timeline entries older than the retention, in batches so that no statement holds
 * many locks or runs long. Every console process runs it: rows another process is deleting are
 * skipped (SKIP LOCKED) and deleting what is gone is a no-op, so concurrent runs are harmless.
 * Returns how many rows this call deleted.
 */
export async function pruneHostEvents(opts: { retentionDays: number; batchSize?: number; maxBatches?: number }): Promise<number> {
  const batch = opts.batchSize ?? 5000;
  let total = 0;
  for (let i = 0; i < (opts.maxBatches ?? 100); i++) {
    const n = await prisma.$executeRaw`
      delete from "HostEvent" where id in (
        select id from "HostEvent" where at < now() - make_interval(days => ${opts.retentionDays})
        limit ${batch} for update skip locked)`;
    total += n;
    if (n < batch) break;
  }
  return total;
}
