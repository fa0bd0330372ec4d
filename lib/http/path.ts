/**
 * True when some segment of a request path has a percent escape that does not decode (`%zz`, a
 * cut-off `%E0%A4%A`, the bytes of a lone surrogate). Next.js throws on such a dynamic segment
 * while matching the route, before any handler runs, which answers 500; server.ts refuses the
 * request with a 400 first.
 */
export function malformedPath(url: string): boolean {
  const pathname = url.split("?")[0];
  try {
    for (const segment of pathname.split("/")) decodeURIComponent(segment);
    return false;
  } catch {
    return true;
  }
}
