import { describe, expect, it } from "vitest";
import type { AuditEvent } from "@/lib/api/schemas";
import { auditCsvHeader, auditCsvRow } from "@/lib/audit/query";

const e: AuditEvent = {
  seq: "7",
  at: "2026-11-29T10:00:00.000Z",
  actorType: "operator",
  actorId: "op-1",
  actorName: "alice",
  action: "host.labels_updated",
  targetType: "host",
  targetId: "h-1",
  details: { note: 'says "hi", twice' },
  sourceIp: null,
  hash: "ab",
};

describe("audit CSV", () => {
  it("has one header and quotes cells with commas and quotes", () => {
    expect(auditCsvHeader()).toBe("seq,at,actorType,actorName,actorId,action,targetType,targetId,sourceIp,details,hash\n");
    expect(auditCsvRow(e)).toBe('7,2026-11-29T10:00:00.000Z,operator,alice,op-1,host.labels_updated,host,h-1,,"{""note"":""says \\""hi\\"", twice""}",ab\n');
  });
  it("neutralises spreadsheet formulas in values (CSV injection)", () => {
    const row = auditCsvRow({ ...e, actorName: "=HYPERLINK(\"http://evil\")" });
    expect(row).toContain(`"'=HYPERLINK(""http://evil"")"`);
  });
});
