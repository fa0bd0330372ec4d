import type http from "node:http";
import { MAX_DIFF_BYTES } from "@/lib/api/schemas";

/** A route's default body limit (route() takes `maxBodyBytes` to change it). */
export const DEFAULT_BODY_BYTES = 1 << 20;
/** The largest body any route accepts: a patch, whose diff travels JSON-escaped (room above the diff's own limit). */
export const MAX_PATCH_BODY_BYTES = MAX_DIFF_BYTES * 2 + 64 * 1024;
/**
 * What server.ts lets into the process at all, before Next (pages, handlers not built with
 * route()) can buffer it: the largest legitimate body, nothing more.
 */
export const PROCESS_BODY_BYTES = MAX_PATCH_BODY_BYTES;

export const tooLargeMessage = (limit: number) => `request body over the limit of ${limit} bytes`;

function declaredLength(value: string | null | undefined): number | null {
  if (value == null || !/^\s*\d+\s*$/.test(value)) return null;
  return Number(value);
}

/**
 * Reads a request body as text, counting bytes as they arrive: a declared Content-Length over
 * the limit is refused before anything is read, and a chunked body stops being read at the limit
 * (the rest stays in the socket, which is closed after the 413). Never holds more than `limit`.
 */
export async function readBodyText(req: Request, limit: number): Promise<{ ok: true; text: string } | { ok: false }> {
  const declared = declaredLength(req.headers.get("content-length"));
  if (declared !== null && declared > limit) return { ok: false };
  if (!req.body) return { ok: true, text: "" };
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      // Not cancel(): that destroys the socket and the client would never see the 413.
      reader.releaseLock();
      return { ok: false };
    }
    chunks.push(value);
  }
  return { ok: true, text: Buffer.concat(chunks).toString("utf8") };
}

/** After a 413 the rest of the body is read and thrown away this long, then the connection is closed. */
export const LINGER_MS = 2000;

/**
 * The process-wide cap, for every request server.ts receives (Next pages, artifact downloads,
 * handlers outside route()): a declared length over `limit` is answered 413 at once; a chunked
 * body is counted as Node hands it over and cut off at the limit, so no consumer ever buffers
 * more. Returns false when the request was refused here and must not be handled further.
 *
 * After any 413 (this cap's or a route's own limit) the connection lingers: what the client is
 * still sending is read and discarded for LINGER_MS, then the socket is closed. Closing at once,
 * with the client's bytes unread, makes the kernel reset the connection and the client may never
 * see the 413 (nginx's lingering_close does the same).
 */
export function capRequestBody(req: http.IncomingMessage, res: http.ServerResponse, limit: number): boolean {
  let discarding = false;
  const linger = () => {
    if (discarding) return;
    discarding = true;
    setTimeout(() => req.socket.destroy(), LINGER_MS).unref();
    // Drop what the request holds unread: the parser then reads (and push() below drops) the rest.
    while (req.read() !== null);
  };
  const refuse = () => {
    if (res.headersSent) {
      req.socket.destroy();
      return;
    }
    res.writeHead(413, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(JSON.stringify({ error: { code: "too_large", message: tooLargeMessage(limit) } }));
  };
  res.once("finish", () => {
    if (res.statusCode === 413 && !req.complete) linger();
  });
  const declared = declaredLength(req.headers["content-length"]);
  if (declared !== null && declared > limit) {
    refuse();
    return false;
  }
  let total = 0;
  // Node's HTTP parser hands every body chunk to the request through push(): counting there sees
  // the bytes whoever reads them (a 'data' listener would steal them from the real reader).
  const push = req.push.bind(req);
  req.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (discarding) return chunk === null ? push(null) : true;
    if (chunk !== null && chunk !== undefined) {
      total += (chunk as Buffer).length;
      if (total > limit) {
        refuse();
        linger();
        return true;
      }
    }
    return push(chunk, encoding);
  };
  return true;
}
