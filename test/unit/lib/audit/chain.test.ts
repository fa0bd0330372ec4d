import { describe, expect, it } from "vitest";
import { canonicalJson, eventHash, GENESIS_HASH, type ChainedFields } from "@/lib/audit/chain";

const event: ChainedFields = {
  at: new Date("2026-11-29T10:00:00.000Z"),
  actorType: "operator",
  actorId: "op-1",
  actorName: "alice",
  action: "host.labels_updated",
  targetType: "host",
  targetId: "h-1",
  details: { set: { env: "prod" }, removed: [] },
  sourceIp: "10.0.0.7",
};

describe("canonicalJson", () => {
  it("sorts keys at every depth so jsonb's reordering does not change the hash", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}');
  });
  it("drops undefined members like JSON does", () => {
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
  });
});

describe("eventHash", () => {
  it("is stable for the same content and previous hash", () => {
    expect(eventHash(GENESIS_HASH, event)).toBe(eventHash(GENESIS_HASH, { ...event, details: { removed: [], set: { env: "prod" } } }));
  });
  it("changes when any field or the previous hash changes", () => {
    const base = eventHash(GENESIS_HASH, event);
    const variants: Partial<ChainedFields>[] = [
      { at: new Date("2026-11-29T10:00:00.001Z") },
      { actorName: "mallory" },
      { action: "host.revoked" },
      { targetId: "h-2" },
      { details: { set: { env: "dev" }, removed: [] } },
      { sourceIp: null },
    ];
    for (const v of variants) expect(eventHash(GENESIS_HASH, { ...event, ...v })).not.toBe(base);
    expect(eventHash("f".repeat(64), event)).not.toBe(base);
  });
});
