import { describe, expect, it } from "vitest";
import { rebootOnly } from "@/lib/analysis/live-patchable";

describe("rebootOnly", () => {
  it.each([
    // The preview's verdict stands until a release's build says otherwise.
    [{ verdict: "requires-reboot", anyBuilt: false }, true],
    [{ verdict: "requires_reboot", anyBuilt: false }, true],
    [{ verdict: "requires-reboot", anyBuilt: true }, false],
    [{ verdict: "requires_reboot", anyBuilt: true }, false],
    [{ verdict: "hot-patchable", anyBuilt: false }, false],
    [{ verdict: "needs-review", anyBuilt: false }, false],
  ])("%o → %s", (p, expected) => {
    expect(rebootOnly(p)).toBe(expected);
  });
});
