import { AGENT_HOST_HEADER, ARTIFACT_HEADERS } from "@/agent/protocol";
import { artifactForAgent } from "@/lib/builds/download";
import { dataDir } from "@/lib/config";
import { IdParams, route } from "@/lib/http/route";

// Agents authenticate with their host id and credential (`Authorization: Bearer <credential>`),
// not with an operator session.
export const GET = route({ auth: "public", params: IdParams }, async ({ req, params }) => {
  const credential = req.headers.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1] ?? "";
  const hostId = req.headers.get(AGENT_HOST_HEADER) ?? "";
  const { bytes, build } = await artifactForAgent({ hostId, credential, buildId: params.id, dataDir: dataDir() });
  return new Response(new Uint8Array(bytes), {
    headers: {
      "content-type": "application/octet-stream",
      "content-length": String(bytes.length),
      [ARTIFACT_HEADERS.sha256]: build.artifactSha256,
      [ARTIFACT_HEADERS.signature]: build.signature,
      [ARTIFACT_HEADERS.patchId]: build.patchId,
      [ARTIFACT_HEADERS.kernelRelease]: build.kernelRelease,
      [ARTIFACT_HEADERS.moduleName]: build.moduleName,
    },
  });
});
