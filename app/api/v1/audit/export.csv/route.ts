import { AuditQuerySchema } from "@/lib/api/schemas";
import { auditCsvHeader, auditCsvRow, iterateAuditEvents } from "@/lib/audit/query";
import { route } from "@/lib/http/route";

// Streams the whole filtered log, page by page, so an export of a long history stays small in memory.
export const GET = route({ auth: "viewer", query: AuditQuerySchema }, async ({ query }) => {
  const { limit: _limit, before: _before, ...filters } = query;
  const events = iterateAuditEvents(filters);
  // The first page is read before answering: a filter the database refuses gets a 4xx (or a 500
  // with the status line intact), never a 200 whose body stops after the header.
  let next = await events.next();
  const enc = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(enc.encode(auditCsvHeader()));
    },
    async pull(c) {
      if (next.done) return c.close();
      c.enqueue(enc.encode(auditCsvRow(next.value)));
      next = await events.next();
    },
  });
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
  return new Response(stream, {
    headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="splicer-audit-${stamp}.csv"` },
  });
});
