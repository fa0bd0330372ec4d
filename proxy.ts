import { NextResponse, type NextRequest } from "next/server";

// An optimistic check before rendering: without a session cookie a console page redirects to the
// login page at once, remembering where the operator was going. The real check (is the session
// valid?) stays in the console layout and in every API route.
export function proxy(req: NextRequest) {
  if (req.cookies.has("splicer_session")) return NextResponse.next();
  const url = req.nextUrl.clone();
  url.pathname = "/login";
  url.search = `?next=${encodeURIComponent(req.nextUrl.pathname + req.nextUrl.search)}`;
  return NextResponse.redirect(url);
}

export const config = {
  // Console pages only: not the API, the login page, Next's assets or files in public/.
  matcher: ["/((?!api|login|_next|favicon\\.ico|.*\\.(?:png|svg|ico|txt|js|css)$).*)"],
};
