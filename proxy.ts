import { NextResponse, type NextRequest } from "next/server";
import { NONCE_HEADER, pageCsp } from "@/lib/http/security-headers";

// Every page: a fresh nonce and the Content Security Policy that names it. Next reads the policy
// from the request headers and puts the nonce on its own script tags; the root layout hands it to
// next-themes' inline script.
//
// Console pages also get an optimistic check before rendering: without a session cookie they
// redirect to the login page at once, remembering where the operator was going. The real check
// (is the session valid?) stays in the console layout and in every API route.
export function proxy(req: NextRequest) {
  if (!req.nextUrl.pathname.startsWith("/login") && !req.cookies.has("splicer_session")) {
    const url = req.nextUrl.clone();
    url.pathname = "/login";
    url.search = `?next=${encodeURIComponent(req.nextUrl.pathname + req.nextUrl.search)}`;
    return NextResponse.redirect(url);
  }
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64");
  const csp = pageCsp(nonce, { dev: process.env.NODE_ENV !== "production" });
  const headers = new Headers(req.headers);
  headers.set(NONCE_HEADER, nonce);
  headers.set("content-security-policy", csp);
  const res = NextResponse.next({ request: { headers } });
  res.headers.set("content-security-policy", csp);
  return res;
}

export const config = {
  // Pages only: not the API, Next's assets or files in public/ (server.ts gives those their headers).
  matcher: ["/((?!api|_next|favicon\\.ico|.*\\.(?:png|svg|ico|txt|js|css)$).*)"],
};
