import { describe, expect, it } from "vitest";
import { baseSecurityHeaders, pageCsp } from "@/lib/http/security-headers";

describe("security headers", () => {
  it("marks API and metrics answers no-store, and sends HSTS only over TLS", () => {
    expect(baseSecurityHeaders({ path: "/api/v1/hosts", tls: false })).toMatchObject({ "cache-control": "no-store", "x-frame-options": "DENY", "x-content-type-options": "nosniff" });
    expect(baseSecurityHeaders({ path: "/metrics", tls: false })["cache-control"]).toBe("no-store");
    // Pages and assets keep Next's own caching.
    expect(baseSecurityHeaders({ path: "/_next/static/chunks/a.js", tls: false })["cache-control"]).toBeUndefined();
    expect(baseSecurityHeaders({ path: "/fleet", tls: false })["strict-transport-security"]).toBeUndefined();
    expect(baseSecurityHeaders({ path: "/fleet", tls: true })["strict-transport-security"]).toBe("max-age=31536000");
  });

  it("allows scripts by nonce only, and eval only in development", () => {
    const prod = pageCsp("abc");
    expect(prod).toContain("script-src 'self' 'nonce-abc' 'strict-dynamic'");
    expect(prod).not.toContain("unsafe-eval");
    expect(prod).toContain("frame-ancestors 'none'");
    expect(pageCsp("abc", { dev: true })).toContain("'unsafe-eval'");
  });
});
