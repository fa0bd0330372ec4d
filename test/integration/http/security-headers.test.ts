// Security headers on every kind of response (server.ts, lib/http/security-headers.ts) and the
// pages' nonce-based Content Security Policy (proxy.ts). Against a real console process.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestConsole, type TestConsole } from "../../helpers/console";

let c: TestConsole;
beforeAll(async () => {
  // As behind a TLS-terminating proxy: HSTS is sent only when the proxy says the request came over TLS.
  c = await startTestConsole({ env: { SPLICER_TRUST_PROXY: "1" } });
});
afterAll(async () => {
  await c?.stop();
});

function expectCommon(h: Headers) {
  expect(h.get("x-frame-options")).toBe("DENY");
  expect(h.get("x-content-type-options")).toBe("nosniff");
  expect(h.get("referrer-policy")).toBe("same-origin");
  expect(h.get("content-security-policy")).toContain("frame-ancestors 'none'");
}

const directive = (csp: string, name: string) => csp.split(";").map((d) => d.trim()).find((d) => d.startsWith(`${name} `)) ?? "";

describe("security headers", () => {
  it("a page carries a strict CSP whose fresh nonce is on every script Next renders", async () => {
    const pages = await Promise.all([c.api("/login", { cookie: null }), c.api("/fleet")]);
    const nonces: string[] = [];
    for (const r of pages) {
      expect(r.status).toBe(200);
      expectCommon(r.headers);
      const csp = r.headers.get("content-security-policy")!;
      // One policy only (the page's, not server.ts's default for everything else): browsers enforce every one sent.
      expect(csp).not.toContain("default-src 'none'");
      const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(directive(csp, "script-src"))?.[1];
      expect(nonce, csp).toBeTruthy();
      expect(directive(csp, "script-src")).not.toContain("unsafe-inline");
      expect(directive(csp, "script-src")).not.toContain("unsafe-eval");
      expect(directive(csp, "object-src")).toBe("object-src 'none'");
      const html = await r.text();
      const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
      expect(scripts.length).toBeGreaterThan(0);
      // Next's scripts and next-themes' inline theme script all carry this response's nonce.
      for (const s of scripts) expect(s).toContain(`nonce="${nonce}"`);
      expect(html).toContain("prefers-color-scheme");
      nonces.push(nonce!);
    }
    expect(nonces[0]).not.toBe(nonces[1]);
    // No HSTS over plain HTTP.
    expect(pages[0].headers.get("strict-transport-security")).toBeNull();
  });

  it("API JSON is never cached and may not be framed or run as a document", async () => {
    for (const r of [await c.api("/api/v1/hosts"), await c.api("/api/v1/hosts", { cookie: null }), await c.api("/api/health", { cookie: null })]) {
      expect(r.headers.get("content-type")).toContain("application/json");
      expect(r.headers.get("cache-control")).toBe("no-store");
      expectCommon(r.headers);
      expect(r.headers.get("content-security-policy")).toContain("default-src 'none'");
      await r.body?.cancel();
    }
    const m = await fetch(`${c.url}/metrics`);
    expect(m.headers.get("cache-control")).toBe("no-store");
    expectCommon(m.headers);
    await m.body?.cancel();
  });

  it("static assets carry the headers too", async () => {
    const html = await (await c.api("/login", { cookie: null })).text();
    const src = /<script[^>]+src="(\/_next\/static\/[^"]+\.js)"/.exec(html)?.[1];
    expect(src).toBeTruthy();
    for (const p of [src!, "/favicon.svg"]) {
      const r = await fetch(`${c.url}${p}`);
      expect(r.status).toBe(200);
      expectCommon(r.headers);
      await r.body?.cancel();
    }
  });

  it("sends HSTS when the trusted proxy says the request came over TLS", async () => {
    const r = await c.api("/login", { cookie: null, headers: { "x-forwarded-proto": "https" } });
    expect(r.headers.get("strict-transport-security")).toBe("max-age=31536000");
    const api = await c.api("/api/v1/hosts", { headers: { "x-forwarded-proto": "https" } });
    expect(api.headers.get("strict-transport-security")).toBe("max-age=31536000");
    await r.body?.cancel();
    await api.body?.cancel();
  });
});
