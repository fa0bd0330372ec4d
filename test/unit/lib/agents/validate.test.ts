import { describe, expect, it } from "vitest";
import { AGENT_EVENTS, eventLabel } from "@/lib/agents/validate";

describe("agent event labels", () => {
  it("names only the protocol's events; anything an agent makes up is 'unknown'", () => {
    for (const e of AGENT_EVENTS) expect(eventLabel(e)).toBe(e);
    expect(eventLabel("evil-123")).toBe("unknown");
    expect(eventLabel("__proto__")).toBe("unknown");
  });
});
