import { describe, expect, it } from "vitest";
import { encodeBusEvent } from "@/lib/db/bus";

describe("bus events", () => {
  it("stay under Postgres' 8000-byte NOTIFY limit by collapsing large id lists to `all`", () => {
    const ids = Array.from({ length: 5000 }, () => crypto.randomUUID());
    const encoded = encodeBusEvent({ type: "hosts.changed", ids });
    expect(Buffer.byteLength(encoded)).toBeLessThan(8000);
    expect(JSON.parse(encoded)).toEqual({ type: "hosts.changed", ids: [], all: true });
    const few = ids.slice(0, 100);
    expect(JSON.parse(encodeBusEvent({ type: "hosts.changed", ids: few }))).toEqual({ type: "hosts.changed", ids: few });
    expect(Buffer.byteLength(encodeBusEvent({ type: "hosts.changed", ids: few }))).toBeLessThan(8000);
  });
});
