"use client";
import * as React from "react";

/**
 * Sends a signed-out visitor to the login page, remembering where they were going. Client-side
 * because a layout cannot see the requested path or query string, and both belong in `next`.
 */
export function LoginRedirect() {
  React.useEffect(() => {
    const next = window.location.pathname + window.location.search;
    window.location.replace(`/login?next=${encodeURIComponent(next)}`);
  }, []);
  return (
    <noscript>
      <meta httpEquiv="refresh" content="0; url=/login" />
    </noscript>
  );
}
