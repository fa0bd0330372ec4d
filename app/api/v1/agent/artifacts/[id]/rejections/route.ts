import { AGENT_HOST_HEADER, ArtifactRejectionSchema } from "@/agent/protocol";
import { recordArtifactRejection } from "@/lib/agents/artifact-download";
import { IdParams, route } from "@/lib/http/route";

export const POST = route({ auth: "public", params: IdParams, body: ArtifactRejectionSchema }, async ({ req, params, body, ip }) => {
  const credential = req.headers.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1] ?? "";
  const hostId = req.headers.get(AGENT_HOST_HEADER) ?? "";
  await recordArtifactRejection({ hostId, credential, buildId: params.id, reason: body.reason, receivedSha256: body.receivedSha256, ip });
  return { ok: true };
});
