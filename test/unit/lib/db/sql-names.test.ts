import { describe, expect, it } from "vitest";
import { sqlList, sqlName, sqlPosition, sqlRank } from "@/lib/db/sql-names";
import { Prisma } from "@/lib/generated/prisma/client";
import { FAILED_HOST_STATES, HOST } from "@/lib/rollouts/states";

describe("enum names as SQL", () => {
  const text = (sql: Prisma.Sql) => sql.sql;
  it("renders sets, names, positions and ranks from the constants", () => {
    expect(text(sqlList(FAILED_HOST_STATES))).toBe("('failed', 'unreachable')");
    expect(text(sqlName(HOST.skipped))).toBe("'skipped'");
    expect(text(sqlPosition(FAILED_HOST_STATES, Prisma.sql`state::text`))).toBe("array_position(array['failed','unreachable']::text[], state::text)");
    expect(text(sqlRank({ a: 1, b_c: 2 }, Prisma.sql`x`))).toBe("(case x when 'a' then 1 when 'b_c' then 2 end)");
  });

  it("refuses anything that is not a plain name (they are inlined)", () => {
    expect(() => sqlList(["failed", "x'); drop table x; --"])).toThrow(/not an enum name/);
    expect(() => sqlName("Failed")).toThrow(/not an enum name/);
  });
});
