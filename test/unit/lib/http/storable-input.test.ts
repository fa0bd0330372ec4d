import { describe, expect, it } from "vitest";
import { findUnstorableInput } from "@/lib/http/storable-input";

describe("findUnstorableInput", () => {
  it("finds the first bad string anywhere and names its path", () => {
    expect(findUnstorableInput({ q: "\u0000" }, "query")).toMatchObject({ path: "query.q" });
    expect(findUnstorableInput({ label: ["a", "b\u0000"] }, "query")).toMatchObject({ path: "query.label[1]" });
    expect(findUnstorableInput({ selector: { labels: { env: "\uD800" } } }, "body")?.message).toMatch(/^body\.selector\.labels\.env contains an unpaired UTF-16 surrogate/);
    expect(findUnstorableInput({ "a-b": { c: "\u0000" } }, "body")).toMatchObject({ path: 'body["a-b"].c' });
  });

  it("checks object keys too, and escapes them when naming them", () => {
    const r = findUnstorableInput({ labels: { "env\u0000": "prod" } }, "body");
    expect(r?.path).toBe('body.labels["env\\u0000"]');
    expect(r?.message).toMatch(/^the name of body\.labels\["env\\u0000"\] contains a NUL/);
  });

  it("passes good input, numbers, booleans and nulls", () => {
    expect(findUnstorableInput({ a: 1, b: [true, null, "😀"], c: { d: "text" } }, "body")).toBeNull();
    expect(findUnstorableInput("fine", "body")).toBeNull();
  });

  it("walks very deep input without overflowing the stack", () => {
    let deep: unknown = "\u0000";
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(findUnstorableInput(deep, "body")?.path).toMatch(/^body(\[0\]){200000}$/);
  });
});
