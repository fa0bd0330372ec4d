import "server-only";
import type { PatchCreate, PatchDetail, PatchSummary } from "@/lib/api/schemas";
import { MAX_DIFF_BYTES } from "@/lib/api/schemas";
import { createdBy, type Actor } from "@/lib/audit/actor";
import { appendAudit } from "@/lib/audit/append";
import { sha256 } from "@/lib/crypto";
import { prisma } from "@/lib/db/client";
import { ConflictError, NotFoundError } from "@/lib/errors";
import type { Prisma } from "@/lib/generated/prisma/client";
import { ensureBuilds } from "@/lib/builds/plan";
import { listBuilds } from "@/lib/builds/query";
import { analysePatch } from "@/lib/analysis/analysis";
import type { PatchAnalysis, Verdict } from "@/lib/analysis/types";

const toDbVerdict = (v: Verdict) => v.replace(/-/g, "_") as "hot_patchable" | "needs_review" | "requires_reboot";
const fromDbVerdict = (v: string) => v.replace(/_/g, "-") as Verdict;

type Row = Prisma.PatchGetPayload<object>;

function toSummary(p: Pick<Row, "id" | "title" | "cves" | "severity" | "verdict" | "analysis" | "targetReleases" | "createdByName" | "createdAt" | "withdrawnAt" | "withdrawnByName" | "withdrawReason">): PatchSummary {
  return {
    id: p.id,
    title: p.title,
    cves: p.cves,
    severity: p.severity,
    verdict: fromDbVerdict(p.verdict),
    functions: ((p.analysis as unknown as PatchAnalysis).functions ?? []).slice(0, 100),
    targetReleases: p.targetReleases,
    createdBy: p.createdByName,
    createdAt: p.createdAt.toISOString(),
    withdrawn: p.withdrawnAt ? { at: p.withdrawnAt.toISOString(), by: p.withdrawnByName ?? "", reason: p.withdrawReason ?? "" } : null,
  };
}

/**
 * Stages a kernel patch: the diff is parsed and analysed first (bad input is refused with a
 * PatchInputError and nothing is stored), then the patch and its audit event are written in one
 * transaction. The same diff cannot be staged twice.
 */
export async function stagePatch(opts: { actor: Actor; input: PatchCreate }): Promise<PatchDetail> {
  const { input } = opts;
  const analysis = await analysePatch(input.diff, { maxBytes: MAX_DIFF_BYTES });
  const diffSha256 = sha256(input.diff);
  const staged = await prisma.$transaction(async (tx) => {
    const existing = await tx.patch.findUnique({ where: { diffSha256 }, select: { id: true, title: true } });
    if (existing) throw new ConflictError(`this diff is already staged as "${existing.title}" (${existing.id})`, "duplicate_patch");
    const row = await tx.patch.create({
      data: {
        title: input.title,
        description: input.description,
        cves: input.cves,
        severity: input.severity,
        diff: input.diff,
        diffSha256,
        targetReleases: [...new Set(input.kernelReleases ?? [])],
        files: [...new Set(analysis.files.map((f) => f.path))],
        verdict: toDbVerdict(analysis.verdict),
        analysis: JSON.parse(JSON.stringify(analysis)) as Prisma.InputJsonObject,
        ...createdBy(opts.actor),
      },
    });
    // Builds for its releases are part of staging: queued in the same transaction.
    const builds = await ensureBuilds({ patchId: row.id, tx });
    const staged = { title: row.title, cves: row.cves, severity: row.severity, verdict: analysis.verdict, functions: analysis.functions.slice(0, 50), diffSha256 };
    const kernelReleases = builds.map((b) => b.kernelRelease).sort();
    await appendAudit(tx, { actor: opts.actor, action: "patch.staged", target: { type: "patch", id: row.id }, details: { ...staged, kernelReleases } });
    return toDetail(row);
  });
  return { ...staged, builds: await listBuilds(staged.id) };
}

function toDetail(row: Row): Omit<PatchDetail, "builds"> {
  return {
    ...toSummary(row),
    description: row.description,
    diff: row.diff,
    diffSha256: row.diffSha256,
    analysis: row.analysis as Record<string, unknown>,
  };
}

export async function listPatches(opts: { limit?: number } = {}): Promise<PatchSummary[]> {
  const rows = await prisma.patch.findMany({
    orderBy: { createdAt: "desc" },
    take: opts.limit ?? 200,
    select: { id: true, title: true, cves: true, severity: true, verdict: true, analysis: true, targetReleases: true, createdByName: true, createdAt: true, withdrawnAt: true, withdrawnByName: true, withdrawReason: true },
  });
  return rows.map(toSummary);
}

export async function getPatch(id: string): Promise<PatchDetail> {
  const row = await prisma.patch.findUnique({ where: { id } });
  if (!row) throw new NotFoundError("patch");
  return { ...toDetail(row), builds: await listBuilds(id) };
}
