import { describe, expect, it } from "vitest";
import { isRowError, writeIsolatingBadRows } from "@/lib/db/isolate";

// Errors shaped as Prisma raises them for a raw query through the pg driver adapter.
const pgError = (code: string, message = "refused") =>
  Object.assign(new Error("Raw query failed"), { code: "P2010", meta: { driverAdapterError: { name: "DriverAdapterError", cause: { originalCode: code, originalMessage: message, kind: "postgres", code } } } });

describe("writeIsolatingBadRows", () => {
  it("writes every good item and returns only the bad ones, splitting the batch", async () => {
    const written: number[] = [];
    const calls: number[][] = [];
    const items = Array.from({ length: 100 }, (_, i) => i);
    const r = await writeIsolatingBadRows(items, async (part) => {
      calls.push(part);
      if (part.includes(17) || part.includes(80)) throw pgError("22021", "invalid byte sequence for encoding \"UTF8\": 0x00");
      written.push(...part);
    });
    expect(r.refused.map((x) => x.item)).toEqual([17, 80]);
    expect(r.failed).toEqual([]);
    expect(written.sort((a, b) => a - b)).toEqual(items.filter((i) => i !== 17 && i !== 80));
    // Bisection, not one statement per row: two bad rows in 100 cost a few dozen statements.
    expect(calls.length).toBeLessThan(30);
  });

  it("does not blame rows for a failure of the database itself", async () => {
    let calls = 0;
    const down = Object.assign(new Error("Connection terminated unexpectedly"), { code: "ECONNRESET" });
    const r = await writeIsolatingBadRows([1, 2, 3, 4], async () => {
      calls++;
      throw down;
    });
    expect(calls).toBe(1);
    expect(r.refused).toEqual([]);
    expect(r.failed.map((x) => x.item)).toEqual([1, 2, 3, 4]);
  });

  it("classifies data, constraint and trigger errors as a row's fault", () => {
    expect(isRowError(pgError("22P05"))).toBe(true);
    expect(isRowError(pgError("23505"))).toBe(true);
    expect(isRowError(pgError("P0001"))).toBe(true);
    expect(isRowError(pgError("57P01"))).toBe(false);
    expect(isRowError(Object.assign(new Error("x"), { code: "P2010" }))).toBe(false);
  });
});
