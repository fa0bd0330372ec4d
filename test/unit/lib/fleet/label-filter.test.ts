import { describe, expect, it } from "vitest";
import { HostListQuerySchema, LabelsSchema } from "@/lib/api/schemas";
import { parseLabelFilter } from "@/lib/fleet/hosts";

describe("label filters", () => {
  it("parses key=value and bare keys", () => {
    expect(parseLabelFilter("env=prod")).toEqual({ key: "env", value: "prod" });
    expect(parseLabelFilter("team/db=")).toEqual({ key: "team/db", value: "" });
    expect(parseLabelFilter("env")).toEqual({ key: "env" });
    expect(() => parseLabelFilter("=prod")).toThrow(/needs a key/);
  });
  it("accepts one or several label parameters", () => {
    expect(HostListQuerySchema.parse({ label: "env=prod" }).label).toEqual(["env=prod"]);
    expect(HostListQuerySchema.parse({ label: ["env=prod", "role=web"] }).label).toEqual(["env=prod", "role=web"]);
  });
});

describe("labels", () => {
  it("name the offending key in the error", () => {
    const r = LabelsSchema.safeParse({ env: "prod", "Bad Key": "x" });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0].message).toMatch(/label key "Bad Key"/);
  });
  it("refuse values with spaces or shell characters", () => {
    expect(LabelsSchema.safeParse({ env: "prod; rm -rf /" }).success).toBe(false);
    expect(LabelsSchema.safeParse({ env: "prod-eu_1.a" }).success).toBe(true);
  });
});
