import fs from "node:fs/promises";
import path from "node:path";
import { errorResponse } from "@/lib/http/route";

export const dynamic = "force-dynamic";

// Public on purpose, like the bundle: the package holds no secret, and hosts fetch it before they
// have credentials. The one `npm run package:agent` built (agent/dist/splicer-agent_<v>_amd64.deb).
export async function GET() {
  const dir = path.join(process.cwd(), "agent/dist");
  const debs = (await fs.readdir(dir).catch(() => [] as string[])).filter((f) => /^splicer-agent_[^/]+_amd64\.deb$/.test(f));
  const newest = (await Promise.all(debs.map(async (f) => ({ f, at: (await fs.stat(path.join(dir, f))).mtimeMs })))).sort((a, b) => b.at - a.at)[0];
  if (!newest) return errorResponse(404, "not_built", "the agent's Debian package is not built; run npm run package:agent on the console");
  const body = await fs.readFile(path.join(dir, newest.f));
  return new Response(body, {
    headers: { "content-type": "application/vnd.debian.binary-package", "content-disposition": `attachment; filename="${newest.f}"`, "content-length": String(body.length) },
  });
}
