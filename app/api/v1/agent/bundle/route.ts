import fs from "node:fs/promises";
import path from "node:path";
import { errorResponse } from "@/lib/http/route";

export const dynamic = "force-dynamic";

// Public on purpose: the bundle holds no secret, and hosts fetch it before they have credentials.
export async function GET() {
  const file = path.join(process.cwd(), "agent/dist/splicer-agent.js");
  try {
    const body = await fs.readFile(file);
    return new Response(body, { headers: { "content-type": "text/javascript; charset=utf-8", "content-disposition": 'attachment; filename="splicer-agent.js"' } });
  } catch {
    return errorResponse(404, "not_built", "the agent bundle is not built; run npm run build:agent on the console");
  }
}
