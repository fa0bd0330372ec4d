import { describe, expect, it } from "vitest";
import { malformedPath } from "@/lib/http/path";

describe("malformedPath", () => {
  it.each([
    ["/api/v1/hosts/%zz", true],
    ["/api/v1/hosts/%E0%A4%A", true],
    ["/api/v1/hosts/%ED%A0%80", true],
    ["/api/v1/hosts/abc%", true],
    ["/api/v1/hosts/00000000-0000-4000-8000-000000000000", false],
    ["/api/v1/hosts/%F0%9D%94%98", false],
    ["/api/v1/hosts?q=%zz", false], // the query string is the route's to judge (400 naming the parameter)
    ["/", false],
  ])("%s → %s", (url, bad) => {
    expect(malformedPath(url)).toBe(bad);
  });
});
