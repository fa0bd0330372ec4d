/**
 * A /ui handshake's Origin must be the console itself (the Host it was reached at) or
 * SPLICER_PUBLIC_URL. Clients that send no Origin (scripts with a token) are not browsers on
 * another site, unless the browser says the request is cross-site.
 */
export function uiOriginAllowed(headers: Record<string, string | string[] | undefined>, publicUrl: string | undefined, trustProxy = false): boolean {
  const origin = headers.origin;
  if (typeof origin !== "string" || origin === "") return headers["sec-fetch-site"] !== "cross-site";
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  const fwdHost = trustProxy ? headers["x-forwarded-host"] : undefined;
  if (typeof fwdHost === "string" && url.host === fwdHost) return true;
  if (typeof headers.host === "string" && url.host === headers.host) return true;
  if (!publicUrl) return false;
  try {
    return new URL(publicUrl).origin === url.origin;
  } catch {
    return false;
  }
}
