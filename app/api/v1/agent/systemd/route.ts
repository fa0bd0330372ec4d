import fs from "node:fs/promises";
import path from "node:path";
import { errorResponse } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export async function GET() {
  try {
    const body = await fs.readFile(path.join(process.cwd(), "agent/systemd/splicer-agent.service"));
    return new Response(body, { headers: { "content-type": "text/plain; charset=utf-8" } });
  } catch {
    return errorResponse(404, "not_found", "systemd unit missing from this installation");
  }
}
