-- CreateEnum
CREATE TYPE "PatchSeverity" AS ENUM ('low', 'medium', 'high', 'critical');

-- CreateEnum
CREATE TYPE "PatchVerdict" AS ENUM ('hot_patchable', 'needs_review', 'requires_reboot');

-- CreateTable
CREATE TABLE "Patch" (
    "id" UUID NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "cves" TEXT[],
    "severity" "PatchSeverity" NOT NULL,
    "diff" TEXT NOT NULL,
    "diffSha256" TEXT NOT NULL,
    "targetReleases" TEXT[],
    "verdict" "PatchVerdict" NOT NULL,
    "analysis" JSONB NOT NULL,
    "createdById" UUID,
    "createdByName" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Patch_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Patch_diffSha256_key" ON "Patch"("diffSha256");

-- CreateIndex
CREATE INDEX "Patch_createdAt_idx" ON "Patch"("createdAt");
