import { AuditQuerySchema } from "@/lib/api/schemas";
import { auditCsvHeader, auditCsvRow, iterateAuditEvents } from "@/lib/audit/query";
import { route } from "@/lib/http/route";

// Streams the whole filtered log, page by page, so an export of a long history stays small in memory.
export const GET = route({ auth: "viewer", query: AuditQuerySchema }, async ({ query }) => {
  const { limit: _limit, before: _before, ...filters } = query;
  const events = iterateAuditEvents(filters);
  const enc = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(enc.encode(auditCsvHeader()));
    },
    async pull(c) {
      const next = await events.next();
      if (next.done) c.close();
      else c.enqueue(enc.encode(auditCsvRow(next.value)));
    },
  });
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
  return new Response(stream, {
    headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="splicer-audit-${stamp}.csv"` },
  });
});
