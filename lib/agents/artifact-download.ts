import "server-only";
import { DomainError, ForbiddenError, NotFoundError, UnauthorizedError } from "@/lib/errors";
import { prisma } from "@/lib/db/client";
import { authenticateAgent, credentialMatches } from "./credentials";
import { appendAudit } from "@/lib/audit/append";
import { notify } from "@/lib/db/bus";
import { ArtifactCorruptedError, ArtifactStoreError } from "@/lib/builds/artifact-store";
import { readArtifact } from "@/lib/builds/artifacts";
import { BUILD_STATUS } from "@/lib/api/schemas";

/**
 * An artifact for an agent: only to an enrolled, active host, only for the kernel release that
 * host runs, only once built and signed. The bytes are re-hashed on the way out; the agent
 * verifies them again against the signature before loading anything.
 */
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function authorize(opts: { hostId: string; credential: string }) {
  if (!UUID_RE.test(opts.hostId) || opts.credential.length < 32) {
    throw new UnauthorizedError("send the host id and credential: Authorization: Bearer <credential>, x-splicer-host-id: <host id>", "bad_credential");
  }
  const who = await authenticateAgent({ hostId: opts.hostId, credential: opts.credential });
  if (!who.ok) throw new UnauthorizedError(who.reason === "revoked" ? "host revoked" : "invalid credential", who.reason);
  return who;
}

/**
 * An agent refused an artifact it downloaded (hash or signature did not verify, or the wrong
 * kernel): someone or something altered it between the console and the host. Recorded in the
 * audit log and on the host's timeline, where operators look.
 */
export async function recordArtifactRejection(opts: { hostId: string; credential: string; buildId: string; reason: string; receivedSha256?: string; ip: string | null }) {
  const who = await authorize(opts);
  const build = await prisma.build.findUnique({ where: { id: opts.buildId }, select: { id: true, patchId: true, kernelRelease: true, artifactSha256: true } });
  if (!build) throw new NotFoundError("build");
  await prisma.$transaction(async (tx) => {
    await tx.hostEvent.create({ data: { hostId: who.hostId, type: "artifact_rejected", details: { buildId: build.id, patchId: build.patchId, reason: opts.reason } } });
    await appendAudit(tx, {
      actor: { type: "agent", id: who.hostId, name: who.hostname, ip: opts.ip },
      action: "artifact.rejected",
      target: { type: "build", id: build.id },
      details: { reason: opts.reason, expectedSha256: build.artifactSha256, receivedSha256: opts.receivedSha256 ?? null, kernelRelease: build.kernelRelease, patchId: build.patchId },
    });
    await notify(tx, { type: "hosts.changed", ids: [who.hostId] });
  });
}

type DownloadRow = {
  status: string; credentialHash: string; hostRelease: string; buildId: string | null; patchId: string; kernelRelease: string; buildStatus: string;
  artifactSha256: string | null; signature: string | null; moduleName: string | null;
};

/**
 * Every host of a rollout downloads its artifact: one query checks the credential and reads the
 * host's kernel and the build together (three Prisma reads cost the console ~3 ms of CPU each time).
 */
export async function artifactForAgent(opts: { hostId: string; credential: string; buildId: string; dataDir: string }) {
  if (!UUID_RE.test(opts.hostId) || opts.credential.length < 32) {
    throw new UnauthorizedError("send the host id and credential: Authorization: Bearer <credential>, x-splicer-host-id: <host id>", "bad_credential");
  }
  if (!UUID_RE.test(opts.buildId)) throw new NotFoundError("build");
  const [row] = await prisma.$queryRaw<DownloadRow[]>`
    select h.status::text, h."credentialHash", h."kernelRelease" as "hostRelease", b.id::text as "buildId", b."patchId"::text, b."kernelRelease",
      b.status::text as "buildStatus", b."artifactSha256", b.signature, b."moduleName"
    from "Host" h left join "Build" b on b.id = ${opts.buildId}::uuid
    where h.id = ${opts.hostId}::uuid`;
  if (!row) throw new UnauthorizedError("invalid credential", "bad_credential");
  if (row.status !== "active") throw new UnauthorizedError("host revoked", "revoked");
  if (!credentialMatches(opts.credential, row.credentialHash)) throw new UnauthorizedError("invalid credential", "bad_credential");
  if (!row.buildId) throw new NotFoundError("build");
  if (row.buildStatus !== BUILD_STATUS.succeeded || !row.artifactSha256 || !row.signature || !row.moduleName) {
    throw new DomainError("not_built", `build ${row.buildId} is ${row.buildStatus}; there is no artifact yet`, 409);
  }
  if (row.hostRelease !== row.kernelRelease) {
    throw new ForbiddenError(`this build is for ${row.kernelRelease}; the host runs ${row.hostRelease || "an unknown kernel"}`, "wrong_release");
  }
  try {
    const bytes = await readArtifact({ dataDir: opts.dataDir, sha256: row.artifactSha256 });
    return {
      bytes,
      build: { id: row.buildId, patchId: row.patchId, kernelRelease: row.kernelRelease, artifactSha256: row.artifactSha256, signature: row.signature, moduleName: row.moduleName },
    };
  } catch (err) {
    if (err instanceof ArtifactCorruptedError) throw new DomainError("artifact_corrupted", "the stored artifact does not match its hash; rebuild it", 409);
    if (err instanceof ArtifactStoreError && err.code === "not_found") throw new DomainError("artifact_missing", "the artifact of this build is not stored anywhere; rebuild it", 409);
    throw err;
  }
}
