import "server-only";
import type { Actor } from "@/lib/audit/actor";
import { appendAudit } from "@/lib/audit/append";
import { prisma, type Tx } from "@/lib/db/client";
import { ConflictError, NotFoundError } from "@/lib/errors";
import { notify } from "@/lib/db/bus";

/**
 * Makes sure a build exists for each (patch, kernel release) that should have one, and returns
 * only the builds it created. `insert … on conflict do nothing` against the unique constraint
 * makes this safe to run from any number of console processes at once: a pair is built once.
 *
 * Which releases: those asked for; else the patch's own targets; else every kernel release an
 * active host of the fleet runs (so a release that joins the fleet later gets its build from the
 * periodic planner, planMissingBuilds).
 */
export async function ensureBuilds(opts: { patchId: string; kernelReleases?: string[]; actor?: Actor; tx?: Tx }): Promise<{ id: string; kernelRelease: string }[]> {
  const run = async (tx: Tx) => {
    const patch = await tx.patch.findUnique({ where: { id: opts.patchId }, select: { id: true, title: true, targetReleases: true, withdrawnAt: true } });
    if (!patch) throw new NotFoundError("patch");
    if (patch.withdrawnAt) throw new ConflictError(`"${patch.title}" is withdrawn: it is not built any more`, "withdrawn");
    const explicit = opts.kernelReleases?.length ? opts.kernelReleases : patch.targetReleases;
    const created = explicit.length
      ? await tx.$queryRaw<{ id: string; kernelRelease: string }[]>`
          insert into "Build" (id, "patchId", "kernelRelease")
          select gen_random_uuid(), ${patch.id}::uuid, r from unnest(${explicit}::text[]) as r
          on conflict ("patchId", "kernelRelease") do nothing
          returning id::text, "kernelRelease"`
      : await tx.$queryRaw<{ id: string; kernelRelease: string }[]>`
          insert into "Build" (id, "patchId", "kernelRelease")
          select gen_random_uuid(), ${patch.id}::uuid, r."kernelRelease"
          from (select distinct "kernelRelease" from "Host" where status = 'active' and "kernelRelease" <> '') r
          on conflict ("patchId", "kernelRelease") do nothing
          returning id::text, "kernelRelease"`;
    if (created.length > 0) {
      await notify(tx, { type: "builds.changed", patchId: patch.id });
      if (opts.actor) {
        await appendAudit(tx, {
          actor: opts.actor,
          action: "patch.builds_requested",
          target: { type: "patch", id: patch.id },
          details: { title: patch.title, kernelReleases: created.map((b) => b.kernelRelease).sort() },
        });
      }
    }
    return created;
  };
  return opts.tx ? run(opts.tx) : prisma.$transaction(run);
}

/**
 * The planner's sweep: builds for kernel releases that joined the fleet after a patch (targeting
 * the whole fleet) was staged. One statement over all patches.
 */
export async function planMissingBuilds(): Promise<{ id: string; patchId: string; kernelRelease: string }[]> {
  return prisma.$transaction(async (tx) => {
    const created = await tx.$queryRaw<{ id: string; patchId: string; kernelRelease: string }[]>`
      insert into "Build" (id, "patchId", "kernelRelease")
      select gen_random_uuid(), p.id, r."kernelRelease"
      from "Patch" p
      cross join (select distinct "kernelRelease" from "Host" where status = 'active' and "kernelRelease" <> '') r
      where cardinality(p."targetReleases") = 0 and p."withdrawnAt" is null
      on conflict ("patchId", "kernelRelease") do nothing
      returning id::text, "patchId"::text, "kernelRelease"`;
    for (const patchId of new Set(created.map((c) => c.patchId))) await notify(tx, { type: "builds.changed", patchId });
    return created;
  });
}
