import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import { AGENT_HOST_HEADER, ARTIFACT_HEADERS } from "@/agent/protocol";
import { DomainError } from "@/lib/errors";
import { log } from "@/lib/log";
import { artifactForAgent } from "@/lib/agents/artifact-download";

/** `GET /api/v1/agent/artifacts/:buildId` (the only part of the path that varies). */
const PATH_RE = /^\/api\/v1\/agent\/artifacts\/([^/?#]+)\/?(?:\?.*)?$/;

export function artifactDownloadId(req: IncomingMessage): string | null {
  if (req.method !== "GET" && req.method !== "HEAD") return null;
  return req.url?.match(PATH_RE)?.[1] ?? null;
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
}

/**
 * Serves an artifact to an agent straight from the console's HTTP server, not through Next's
 * router: in a rollout every host downloads once, thousands within seconds, and this endpoint
 * needs none of what Next adds per request (it authenticates with the host's credential).
 */
export async function serveArtifactDownload(req: IncomingMessage, res: ServerResponse, opts: { buildId: string; dataDir: string }): Promise<void> {
  const credential = req.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1] ?? "";
  const hostId = String(req.headers[AGENT_HOST_HEADER] ?? "");
  let buildId: string;
  try {
    buildId = decodeURIComponent(opts.buildId);
  } catch {
    return sendError(res, 400, "invalid_path", "the build id in the path has a malformed percent escape");
  }
  try {
    const { bytes, build } = await artifactForAgent({ hostId, credential, buildId, dataDir: opts.dataDir });
    res.writeHead(200, {
      "content-type": "application/octet-stream",
      "content-length": String(bytes.length),
      "cache-control": "no-store",
      [ARTIFACT_HEADERS.sha256]: build.artifactSha256,
      [ARTIFACT_HEADERS.signature]: build.signature,
      [ARTIFACT_HEADERS.patchId]: build.patchId,
      [ARTIFACT_HEADERS.kernelRelease]: build.kernelRelease,
      [ARTIFACT_HEADERS.moduleName]: build.moduleName,
    });
    res.end(req.method === "HEAD" ? undefined : bytes);
  } catch (err) {
    if (err instanceof DomainError) return sendError(res, err.status, err.code, err.message);
    log.error({ err, hostId, buildId: opts.buildId }, "artifact download failed");
    sendError(res, 500, "internal", "internal error; the console's log has the details");
  }
}
