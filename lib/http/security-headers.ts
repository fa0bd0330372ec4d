// Response headers that every answer of the console carries (server.ts), and the pages' Content
// Security Policy with a per-request nonce (proxy.ts). Not server-only: proxy.ts imports it.

/** The request header that carries a page request's nonce from proxy.ts to the root layout. */
export const NONCE_HEADER = "x-nonce";

/**
 * The pages' policy. Scripts: only Next's own (the nonce is on every script tag Next renders and
 * on next-themes' inline script; 'strict-dynamic' lets those load their chunks). Styles need
 * 'unsafe-inline': React renders `style` attributes (Radix popper positions, recharts, progress
 * bars) and Radix injects <style> elements, which a nonce cannot cover (attributes never carry
 * one); injected CSS cannot run script, and img-src/connect-src 'self' limit what it can reach.
 */
export function pageCsp(nonce: string, opts: { dev?: boolean } = {}): string {
  return [
    "default-src 'self'",
    // Next's dev server evaluates modules with eval; a production build never does.
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${opts.dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    // socket.io (/ui) and the API: same origin only ('self' covers ws/wss to this host).
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** For everything that is not a page (API JSON, assets, metrics, artifacts): nothing may run or frame it. */
export const NON_PAGE_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** One year; no includeSubDomains: other services on sibling names are not ours to pin to TLS. */
export const HSTS = "max-age=31536000";

/**
 * The headers set on every response before Next (or server.ts itself) answers. A page's own CSP
 * (proxy.ts) replaces NON_PAGE_CSP; API answers must never be cached (they carry fleet data and
 * depend on who asks).
 */
export function baseSecurityHeaders(opts: { path: string; tls: boolean }): Record<string, string> {
  const h: Record<string, string> = {
    "content-security-policy": NON_PAGE_CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
  };
  if (opts.tls) h["strict-transport-security"] = HSTS;
  if (opts.path.startsWith("/api/") || opts.path === "/metrics") h["cache-control"] = "no-store";
  return h;
}
