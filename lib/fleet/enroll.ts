import "server-only";
import type { EnrollRequest, EnrollResponse } from "@/agent/protocol";
import { appendAudit } from "@/lib/audit/append";
import { newSecret, sha256 } from "@/lib/crypto";
import { prisma } from "@/lib/db/client";
import { DomainError } from "@/lib/errors";
import { notify } from "@/lib/realtime/bus";
import { tokenState } from "./enrollment-tokens";

export class EnrollmentRefusedError extends DomainError {
  constructor(message: string) {
    super("enrollment_refused", message, 403);
  }
}

/**
 * Exchanges an enrollment token for a per-host credential. The token's use is counted with one
 * conditional UPDATE, so concurrent enrollments can never exceed `maxUses`. A machine that enrolls
 * again (a reinstall, or a revoked host brought back by an admin's new token) keeps its host
 * record and history and gets a new credential; the old one stops working at once.
 */
export async function enrollHost(opts: EnrollRequest & { ip: string | null }): Promise<EnrollResponse> {
  const tokenHash = sha256(opts.enrollmentToken);
  const credential = newSecret("agt");
  return prisma.$transaction(async (tx) => {
    const used = await tx.$queryRaw<{ id: string }[]>`
      update "EnrollmentToken" set uses = uses + 1
      where "tokenHash" = ${tokenHash} and "revokedAt" is null and "expiresAt" > now() and uses < "maxUses"
      returning id`;
    if (used.length === 0) {
      const t = await tx.enrollmentToken.findUnique({ where: { tokenHash } });
      const why = !t ? "is not known" : { revoked: "was revoked", expired: "has expired", used_up: "has no uses left", active: "could not be used" }[tokenState(t)];
      throw new EnrollmentRefusedError(`enrollment token ${why}; create a new one on the console's Add hosts page`);
    }
    const tokenId = used[0].id;
    const prior = await tx.host.findUnique({ where: { machineId: opts.machineId }, select: { id: true, status: true } });
    const host = await tx.host.upsert({
      where: { machineId: opts.machineId },
      create: { machineId: opts.machineId, hostname: opts.hostname, credentialHash: sha256(credential), enrollmentTokenId: tokenId, lastIp: opts.ip },
      update: { hostname: opts.hostname, credentialHash: sha256(credential), status: "active", enrollmentTokenId: tokenId, enrolledAt: new Date(), lastIp: opts.ip },
      select: { id: true },
    });
    await tx.hostEvent.create({ data: { hostId: host.id, type: "enrolled", details: { reenrolled: !!prior, previousStatus: prior?.status ?? null } } });
    await appendAudit(tx, {
      actor: { type: "agent", id: host.id, name: opts.hostname, ip: opts.ip },
      action: prior ? "host.reenrolled" : "host.enrolled",
      target: { type: "host", id: host.id },
      details: { hostname: opts.hostname, machineId: opts.machineId, enrollmentTokenId: tokenId, ...(prior ? { previousStatus: prior.status } : {}) },
    });
    if (prior) await notify(tx, { type: "host.credential_rotated", hostId: host.id });
    await notify(tx, { type: "hosts.changed", ids: [host.id] });
    return { hostId: host.id, credential };
  });
}
