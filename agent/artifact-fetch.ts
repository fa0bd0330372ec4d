// Downloads a build's artifact from the console and verifies it (hash, then the console's
// signature with the key pinned at enrollment) before anything may load it. The signed fields
// travel in response headers; the signature covers them, so they cannot be changed either.
import { createHash } from "node:crypto";
import { AGENT_HOST_HEADER, ARTIFACT_HEADERS, type ArtifactRejection, type ArtifactSignedFields } from "./protocol";
import { verifyArtifact } from "./artifact";

export type FetchedArtifact =
  | { ok: true; bytes: Buffer; fields: ArtifactSignedFields; /** the console's signature over `fields`, verified */ signature: string }
  /**
   * `retryable`: the console could not be reached or failed (network error, 5xx, 408, 429), as
   * while it restarts; the same request may well succeed later. Otherwise the answer is final.
   */
  | { ok: false; reason: string; status?: number; retryable?: boolean };

const RETRYABLE_STATUS = (status: number) => status >= 500 || status === 408 || status === 429;

export async function fetchArtifact(opts: {
  server: string;
  hostId: string;
  credential: string;
  buildId: string;
  /** Pinned at enrollment. */
  consolePublicKey: string;
  /** The release this host runs: an artifact for another kernel is refused even if signed. */
  kernelRelease: string;
  fetch?: typeof fetch;
  /** Aborts the download (the job's deadline). */
  signal?: AbortSignal;
}): Promise<FetchedArtifact> {
  const doFetch = opts.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(new URL(`/api/v1/agent/artifacts/${encodeURIComponent(opts.buildId)}`, opts.server), {
      headers: { authorization: `Bearer ${opts.credential}`, [AGENT_HOST_HEADER]: opts.hostId },
      signal: opts.signal,
    });
  } catch (err) {
    return { ok: false, reason: `download failed: ${(err as Error).message}`, retryable: !opts.signal?.aborted };
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    return {
      ok: false,
      status: res.status,
      reason: `the console refused the download (${res.status}): ${body?.error?.message ?? res.statusText}`,
      retryable: RETRYABLE_STATUS(res.status),
    };
  }
  const h = (name: string) => res.headers.get(name) ?? "";
  const fields: ArtifactSignedFields = {
    artifactSha256: h(ARTIFACT_HEADERS.sha256),
    patchId: h(ARTIFACT_HEADERS.patchId),
    kernelRelease: h(ARTIFACT_HEADERS.kernelRelease),
    moduleName: h(ARTIFACT_HEADERS.moduleName),
  };
  const bytes = Buffer.from(await res.arrayBuffer());
  const signature = h(ARTIFACT_HEADERS.signature);
  const verdict = verifyArtifact({ bytes, expected: fields, signature, publicKeyPem: opts.consolePublicKey });
  const reason = !verdict.ok
    ? verdict.reason
    : fields.kernelRelease !== opts.kernelRelease
      ? `artifact is for kernel ${fields.kernelRelease}; this host runs ${opts.kernelRelease}`
      : null;
  if (reason === null) return { ok: true, bytes, fields, signature };
  // Refused: tell the console, so the tampering shows in its audit log and this host's timeline.
  const report: ArtifactRejection = { reason, receivedSha256: createHash("sha256").update(bytes).digest("hex") };
  await doFetch(new URL(`/api/v1/agent/artifacts/${encodeURIComponent(opts.buildId)}/rejections`, opts.server), {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${opts.credential}`, [AGENT_HOST_HEADER]: opts.hostId },
    body: JSON.stringify(report),
  }).catch(() => {});
  return { ok: false, reason };
}
