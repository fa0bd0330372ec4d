import { describe, expect, it } from "vitest";
import { uiOriginAllowed } from "@/lib/realtime/ui-origin";

describe("/ui handshake Origin check", () => {
  it.each([
    ["the console's own origin", { origin: "http://console.example:3000", host: "console.example:3000" }, undefined, true],
    ["SPLICER_PUBLIC_URL behind a proxy", { origin: "https://splicer.example.com", host: "127.0.0.1:3000" }, "https://splicer.example.com/", true],
    ["another site", { origin: "https://evil.example", host: "console.example:3000" }, "https://splicer.example.com", false],
    ["same host, other port", { origin: "http://console.example:4000", host: "console.example:3000" }, undefined, false],
    ["public URL's host with another scheme", { origin: "http://splicer.example.com", host: "127.0.0.1:3000" }, "https://splicer.example.com", false],
    ["an opaque origin", { origin: "null", host: "console.example:3000" }, undefined, false],
    ["no Origin (a script, not a browser)", { host: "console.example:3000" }, undefined, true],
    ["no Origin but the browser says cross-site", { host: "console.example:3000", "sec-fetch-site": "cross-site" }, undefined, false],
  ] as const)("%s", (_what, headers, publicUrl, allowed) => {
    expect(uiOriginAllowed({ ...headers }, publicUrl)).toBe(allowed);
  });
});
