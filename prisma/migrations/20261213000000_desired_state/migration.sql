-- What each host should have live (lib/rollouts/desired.ts), and what its agent did with its kept
-- patches at its last boot (agent/boot/reload.ts).
ALTER TABLE "Host" ADD COLUMN "reloadReport" JSONB;

CREATE TABLE "DesiredPatch" (
    "hostId" UUID NOT NULL,
    "patchId" UUID NOT NULL,
    "kernelRelease" TEXT NOT NULL,
    "rolloutId" UUID NOT NULL,
    "appliedBootId" TEXT,
    "appliedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "DesiredPatch_pkey" PRIMARY KEY ("hostId","patchId","kernelRelease")
);

CREATE INDEX "DesiredPatch_patchId_idx" ON "DesiredPatch"("patchId");

ALTER TABLE "DesiredPatch" ADD CONSTRAINT "DesiredPatch_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "DesiredPatch" ADD CONSTRAINT "DesiredPatch_patchId_fkey" FOREIGN KEY ("patchId") REFERENCES "Patch"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- From the rollouts so far: per host, patch and release, the latest finished result decides (an
-- apply that succeeded: desired; a rollback that reverted it: not). Their boots were not recorded.
INSERT INTO "DesiredPatch" ("hostId", "patchId", "kernelRelease", "rolloutId", "appliedBootId", "appliedAt")
SELECT l."hostId", l."patchId", l."kernelRelease", l."rolloutId", NULL, l."finishedAt"
FROM (
    SELECT DISTINCT ON (rh."hostId", r."patchId", rh."kernelRelease")
        rh."hostId", r."patchId", rh."kernelRelease", rh."rolloutId", rh.state, rh."finishedAt"
    FROM "RolloutHost" rh JOIN "Rollout" r ON r.id = rh."rolloutId"
    WHERE rh.state IN ('succeeded', 'reverted') AND rh."finishedAt" IS NOT NULL
    ORDER BY rh."hostId", r."patchId", rh."kernelRelease", rh."finishedAt" DESC
) l
WHERE l.state = 'succeeded';
