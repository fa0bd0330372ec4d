import "server-only";
import { BUILD_OUTCOME, BUILD_STATUS, BuildOutcomeSchema, BuildReportSchema } from "@/lib/api/schemas";
import { SYSTEM } from "@/lib/audit/actor";
import { appendAudit } from "@/lib/audit/append";
import { prisma, type Tx } from "@/lib/db/client";
import { log } from "@/lib/log";
import { notify } from "@/lib/db/bus";
import { putArtifact } from "./artifact-store";
import { sha256Hex } from "./artifacts";
import { MAX_MODULE_NAME, MODULE_NAME_RE } from "@/lib/livepatch/module-name";
import type { BuildResult } from "./queue";
import type { BuildReport, FailureReason } from "./types";
import type { SigningKey } from "@/lib/signing/signing";
import { sqlName } from "@/lib/db/sql-names";

// A console records what build workers finished: it checks a built artifact against what the
// worker claimed, signs it with the console's key, and writes the audit event. Workers hold
// neither the signing key nor the audit key (both stay in the consoles' data dir); a worker can
// put bytes in the database, but only a console's check turns them into something agents load.

type Pending = {
  id: string;
  patchId: string;
  kernelRelease: string;
  result: BuildResult;
  content: Uint8Array | null;
};

/** Why a worker's artifact cannot be signed, or null when it can. Pure: what the console checks. */
export function artifactProblem(r: { artifactSha256: string; artifactSize: number; moduleName: string }, content: Uint8Array | null): string | null {
  if (!/^[0-9a-f]{64}$/.test(r.artifactSha256)) return `the worker named no valid artifact hash (${JSON.stringify(r.artifactSha256)})`;
  if (!MODULE_NAME_RE.test(r.moduleName) || r.moduleName.length > MAX_MODULE_NAME) return `the module name ${JSON.stringify(r.moduleName)} is not a kernel module name`;
  if (!content) return `artifact ${r.artifactSha256} is not in the database`;
  const actual = sha256Hex(content);
  if (actual !== r.artifactSha256) return `the stored artifact hashes to ${actual}, not ${r.artifactSha256} as its build says`;
  if (content.byteLength !== r.artifactSize) return `the stored artifact has ${content.byteLength} bytes, not ${r.artifactSize} as its build says`;
  return null;
}

/** A worker's report as the API shows it; one that does not parse is dropped (the module is what counts), not stored. */
function reportOf(report: unknown): BuildReport | null {
  const parsed = BuildReportSchema.safeParse(report);
  return parsed.success ? parsed.data : null;
}

/** The patch's analysis says what a builder refused and why, per release (one statement: concurrent builds of one patch cannot overwrite each other's entries). */
async function noteRefusal(tx: Tx, b: Pending, refusal: { builder: string; message: string } | null): Promise<void> {
  if (refusal) {
    await tx.$executeRaw`
      update "Patch" set analysis = jsonb_set(analysis, '{builderRefusals}',
        coalesce(analysis->'builderRefusals', '{}'::jsonb) || jsonb_build_object(${b.kernelRelease}::text, jsonb_build_object('builder', ${refusal.builder}::text, 'message', ${refusal.message}::text)))
      where id = ${b.patchId}::uuid`;
  } else {
    await tx.$executeRaw`update "Patch" set analysis = analysis #- array['builderRefusals', ${b.kernelRelease}::text] where id = ${b.patchId}::uuid and analysis ? 'builderRefusals'`;
  }
}

/**
 * Records one finished build, if any waits; returns false when none does. Several consoles may
 * run this at once: each row is taken by one of them (FOR UPDATE SKIP LOCKED), and recorded in
 * one transaction with its audit event.
 */
async function recordOne(opts: { signingKey: SigningKey; dataDir: string; recorder: string }): Promise<boolean> {
  let signed: { sha256: string; bytes: Uint8Array } | null = null;
  const found = await prisma.$transaction(async (tx) => {
    const [b] = await tx.$queryRaw<Pending[]>`
      select b.id::text, b."patchId"::text, b."kernelRelease", b.result, a.content
      from "Build" b left join "Artifact" a on a.sha256 = b.result->>'artifactSha256'
      where b.status = ${sqlName(BUILD_STATUS.building)} and b.result is not null
      order by b."queuedAt"
      limit 1
      for update of b skip locked`;
    if (!b) return false;
    const r = b.result;
    let outcome:
      | { status: typeof BUILD_STATUS.succeeded; outcome: typeof BUILD_OUTCOME.built; artifactSha256: string; artifactSize: number; moduleName: string; signature: string; report: BuildReport | null }
      | { status: typeof BUILD_STATUS.failed; outcome: FailureReason; error: string };
    let line: string;
    if (r.status === BUILD_STATUS.succeeded) {
      const problem = artifactProblem(r, b.content);
      if (problem) {
        outcome = { status: BUILD_STATUS.failed, outcome: BUILD_OUTCOME.bad_output, error: `not signed: ${problem}` };
        line = `${opts.recorder} refused to sign the artifact: ${problem}`;
      } else {
        const signature = opts.signingKey.sign({ artifactSha256: r.artifactSha256, patchId: b.patchId, kernelRelease: b.kernelRelease, moduleName: r.moduleName });
        outcome = { status: BUILD_STATUS.succeeded, outcome: BUILD_OUTCOME.built, artifactSha256: r.artifactSha256, artifactSize: r.artifactSize, moduleName: r.moduleName, signature, report: reportOf(r.report) };
        line = `artifact checked and signed by ${opts.recorder}`;
        signed = { sha256: r.artifactSha256, bytes: b.content! };
      }
    } else {
      // A worker from before outcomes were recorded names none.
      outcome = { status: BUILD_STATUS.failed, outcome: BuildOutcomeSchema.exclude([BUILD_OUTCOME.built]).catch(BUILD_OUTCOME.failed).parse(r.outcome), error: r.error };
      line = `recorded by ${opts.recorder}`;
    }
    await tx.$executeRaw`
      update "Build" set status = ${outcome.status}::"BuildStatus", outcome = ${outcome.outcome}::"BuildOutcome", result = null,
        report = ${outcome.status === BUILD_STATUS.succeeded && outcome.report ? JSON.stringify(outcome.report) : null}::jsonb, "finishedAt" = now(), "leaseUntil" = null,
        error = ${outcome.status === BUILD_STATUS.failed ? outcome.error : null},
        "artifactSha256" = ${outcome.status === BUILD_STATUS.succeeded ? outcome.artifactSha256 : null},
        "artifactSize" = ${outcome.status === BUILD_STATUS.succeeded ? outcome.artifactSize : null},
        "moduleName" = ${outcome.status === BUILD_STATUS.succeeded ? outcome.moduleName : null},
        signature = ${outcome.status === BUILD_STATUS.succeeded ? outcome.signature : null},
        log = log || ${`${line}\n`}
      where id = ${b.id}::uuid`;
    await noteRefusal(tx, b, r.status === BUILD_STATUS.failed && r.refusedBy ? { builder: r.refusedBy, message: r.error } : null);
    await notify(tx, { type: "builds.changed", patchId: b.patchId, buildId: b.id });
    await appendAudit(tx, {
      actor: SYSTEM,
      action: outcome.status === BUILD_STATUS.succeeded ? "build.succeeded" : "build.failed",
      target: { type: "build", id: b.id },
      details: {
        patchId: b.patchId,
        kernelRelease: b.kernelRelease,
        worker: r.worker,
        outcome: outcome.outcome,
        ...(outcome.status === BUILD_STATUS.succeeded ? { artifactSha256: outcome.artifactSha256, moduleName: outcome.moduleName } : { error: outcome.error }),
      },
    });
    return true;
  });
  // The console that signed keeps a disk copy to serve from (others fetch theirs from the database).
  const copy = signed as { sha256: string; bytes: Uint8Array } | null;
  if (copy) await putArtifact({ dataDir: opts.dataDir, bytes: copy.bytes }).catch((err) => log.warn({ err, sha256: copy.sha256 }, "could not keep a disk copy of an artifact"));
  return found;
}

/** Records every finished build waiting for a console; returns how many. */
export async function recordFinishedBuilds(opts: { signingKey: SigningKey; dataDir: string; recorder: string }): Promise<number> {
  let n = 0;
  while (await recordOne(opts)) n++;
  return n;
}
