import "server-only";
import { DomainError, ForbiddenError, NotFoundError, UnauthorizedError } from "@/lib/errors";
import { prisma } from "@/lib/db/client";
import { authenticateAgent } from "@/lib/fleet/presence";
import { appendAudit } from "@/lib/audit/append";
import { notify } from "@/lib/realtime/bus";
import { ArtifactCorruptedError, openArtifact } from "./artifact-store";

/**
 * An artifact for an agent: only to an enrolled, active host, only for the kernel release that
 * host runs, only once built and signed. The bytes are re-hashed on the way out; the agent
 * verifies them again against the signature before loading anything.
 */
async function authorize(opts: { hostId: string; credential: string }) {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(opts.hostId) || opts.credential.length < 32) {
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

export async function artifactForAgent(opts: { hostId: string; credential: string; buildId: string; dataDir: string }) {
  await authorize(opts);
  const [host, build] = await Promise.all([
    prisma.host.findUnique({ where: { id: opts.hostId }, select: { kernelRelease: true } }),
    prisma.build.findUnique({ where: { id: opts.buildId } }),
  ]);
  if (!build) throw new NotFoundError("build");
  if (build.status !== "succeeded" || !build.artifactSha256 || !build.signature || !build.moduleName) {
    throw new DomainError("not_built", `build ${build.id} is ${build.status}; there is no artifact yet`, 409);
  }
  if (host?.kernelRelease !== build.kernelRelease) {
    throw new ForbiddenError(`this build is for ${build.kernelRelease}; the host runs ${host?.kernelRelease || "an unknown kernel"}`, "wrong_release");
  }
  try {
    const bytes = await openArtifact({ dataDir: opts.dataDir, sha256: build.artifactSha256 });
    return { bytes, build: { ...build, artifactSha256: build.artifactSha256, signature: build.signature, moduleName: build.moduleName } };
  } catch (err) {
    if (err instanceof ArtifactCorruptedError) throw new DomainError("artifact_corrupted", "the stored artifact does not match its hash; rebuild it", 409);
    throw err;
  }
}
