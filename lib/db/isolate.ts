import "server-only";

/**
 * The SQLSTATE and message of a failed query, wherever the driver or Prisma put them (a pg
 * error's `code`, or the driver adapter's cause inside a Prisma error).
 */
function postgresError(err: unknown): { code: string; message: string } | null {
  const seen = new Set<unknown>();
  const walk = (e: unknown, depth: number): { code: string; message: string } | null => {
    if (!e || typeof e !== "object" || seen.has(e) || depth > 6) return null;
    seen.add(e);
    const o = e as Record<string, unknown>;
    for (const k of ["cause", "meta", "driverAdapterError"]) {
      const found = walk(o[k], depth + 1);
      if (found) return found;
    }
    // Prisma's own codes (P1000-P6999, e.g. P2010 "raw query failed") wrap the database's.
    const code = [o.originalCode, o.code].find((c): c is string => typeof c === "string" && /^[0-9A-Z]{5}$/.test(c) && !/^P[1-9]/.test(c));
    if (!code) return null;
    const message = [o.originalMessage, o.message].find((m): m is string => typeof m === "string") ?? "";
    return { code, message };
  };
  return walk(err, 0);
}

export function sqlState(err: unknown): string | null {
  return postgresError(err)?.code ?? null;
}

/**
 * True when Postgres refused the data of a statement rather than failing to run it: data
 * exceptions (class 22: bad text, out of range), integrity violations (23: a constraint), errors
 * raised by a trigger or function (P0). Such a failure is some row's fault; a lost connection,
 * a timeout or a shutdown is nobody's, and splitting the batch would only repeat it.
 */
export function isRowError(err: unknown): boolean {
  const state = sqlState(err);
  return state !== null && /^(22|23|P0)/.test(state);
}

export interface Isolated<T> {
  /** Items whose own data made the write fail, with the database's error. */
  refused: { item: T; error: unknown }[];
  /** Items not written for a reason that is not theirs (set when the database failed as a whole). */
  failed: { item: T; error: unknown }[];
}

/**
 * Writes a batch in one call of `write` (which must be atomic: all or nothing). When the
 * database refuses the batch because of some row, the batch is split in halves and each half
 * written again, down to the single items at fault: every good item is written, and the bad ones
 * come back in `refused`. One bad item among n costs about 2·log2(n) extra statements; any other
 * failure (the database unreachable) fails the whole batch at once, into `failed`.
 */
export async function writeIsolatingBadRows<T>(items: T[], write: (items: T[]) => Promise<void>): Promise<Isolated<T>> {
  const out: Isolated<T> = { refused: [], failed: [] };
  const attempt = async (part: T[]): Promise<void> => {
    if (part.length === 0) return;
    try {
      await write(part);
    } catch (error) {
      if (!isRowError(error)) {
        for (const item of part) out.failed.push({ item, error });
      } else if (part.length === 1) {
        out.refused.push({ item: part[0], error });
      } else {
        const mid = Math.ceil(part.length / 2);
        await attempt(part.slice(0, mid));
        await attempt(part.slice(mid));
      }
    }
  };
  await attempt(items);
  return out;
}

/** The database's own words for a refused row, short enough for an agent's log. */
export function rowErrorMessage(err: unknown): string {
  const pg = postgresError(err);
  return (pg ? `${pg.message} (SQLSTATE ${pg.code})` : err instanceof Error ? err.message : String(err)).slice(0, 300);
}
