import "server-only";
import { ACTIVE_ROLLOUT_STATUSES, type PatchDetail } from "@/lib/api/schemas";
import type { Actor } from "@/lib/audit/actor";
import { appendAudit } from "@/lib/audit/append";
import { notify } from "@/lib/db/bus";
import { prisma } from "@/lib/db/client";
import { liveOnHost } from "@/lib/db/sql-names";
import { ConflictError, NotFoundError } from "@/lib/errors";
import { Prisma } from "@/lib/generated/prisma/client";
import { livepatchModuleName } from "@/lib/livepatch/module-name";
import { requeueStaleBuilds } from "@/lib/builds/stacks";
import { getPatch } from "./stage";

/**
 * Takes a patch out of use: a bad fix, or one a corrected patch replaces. It gets no new rollouts
 * or builds, and later patches of the same functions are no longer built on top of it: their
 * builds that carried it (or failed on top of it) are queued again, to be built without it. Only
 * a patch no host has or should have live can be withdrawn (roll it back first), so nothing live
 * changes. One transaction with its audit event.
 */
export async function withdrawPatch(opts: { actor: Actor; id: string; reason: string }): Promise<PatchDetail> {
  await prisma.$transaction(async (tx) => {
    const [p] = await tx.$queryRaw<{ id: string; title: string; withdrawnAt: Date | null }[]>`
      select id::text, title, "withdrawnAt" from "Patch" where id = ${opts.id}::uuid for update`;
    if (!p) throw new NotFoundError("patch");
    if (p.withdrawnAt) throw new ConflictError(`"${p.title}" is already withdrawn`, "already_withdrawn");
    const running = await tx.rollout.findFirst({ where: { patchId: p.id, status: { in: [...ACTIVE_ROLLOUT_STATUSES] } }, select: { number: true } });
    if (running) throw new ConflictError(`rollout ${running.number} of "${p.title}" is still running: abort it first`, "rollout_active");
    const [{ live, desired }] = await tx.$queryRaw<{ live: number; desired: number }[]>`
      select (select count(*) from "Host" h where h.status = 'active' and ${liveOnHost(Prisma.sql`${livepatchModuleName(p.id)}::text`)})::int as live,
        (select count(*) from "DesiredPatch" d where d."patchId" = ${p.id}::uuid)::int as desired`;
    if (live > 0 || desired > 0) {
      throw new ConflictError(`"${p.title}" is live on ${Math.max(live, desired)} host${Math.max(live, desired) === 1 ? "" : "s"} (or should be, after a reboot): roll it back first`, "patch_live");
    }
    await tx.patch.update({ where: { id: p.id }, data: { withdrawnAt: new Date(), withdrawnByName: opts.actor.name, withdrawReason: opts.reason } });
    // Later patches' builds built on it, or that failed on top of it: built again without it.
    const rebuilt = await requeueStaleBuilds(tx);
    await notify(tx, { type: "builds.changed", patchId: p.id });
    for (const patchId of new Set(rebuilt.map((b) => b.patchId))) await notify(tx, { type: "builds.changed", patchId });
    await appendAudit(tx, {
      actor: opts.actor,
      action: "patch.withdrawn",
      target: { type: "patch", id: p.id },
      details: { title: p.title, reason: opts.reason, rebuilt: rebuilt.map((b) => ({ buildId: b.id, patchId: b.patchId, kernelRelease: b.kernelRelease })) },
    });
  });
  return getPatch(opts.id);
}
