import { describe, expect, it } from "vitest";
import { GroupCreateSchema, GroupUpdateSchema } from "@/lib/api/schemas";

describe("group bodies", () => {
  it("a new group gets the defaults: no description, reloading at boot on", () => {
    expect(GroupCreateSchema.parse({ name: "web", selector: { all: true } })).toEqual({ name: "web", description: "", selector: { all: true }, reloadAtBoot: true });
  });

  it("a change carries only what it changes (a rename must not clear the description or turn reloading back on)", () => {
    expect(GroupUpdateSchema.parse({ name: "web-2" })).toEqual({ name: "web-2" });
    expect(GroupUpdateSchema.parse({ reloadAtBoot: false })).toEqual({ reloadAtBoot: false });
    expect(GroupUpdateSchema.safeParse({}).success).toBe(false);
  });
});
