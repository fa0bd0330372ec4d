-- CreateEnum
CREATE TYPE "BuildStatus" AS ENUM ('queued', 'building', 'succeeded', 'failed');

-- CreateTable
CREATE TABLE "Build" (
    "id" UUID NOT NULL,
    "patchId" UUID NOT NULL,
    "kernelRelease" TEXT NOT NULL,
    "status" "BuildStatus" NOT NULL DEFAULT 'queued',
    "builder" TEXT NOT NULL DEFAULT '',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "log" TEXT NOT NULL DEFAULT '',
    "leaseUntil" TIMESTAMPTZ(3),
    "artifactSha256" TEXT,
    "artifactSize" INTEGER,
    "moduleName" TEXT,
    "signature" TEXT,
    "queuedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Build_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Build_status_idx" ON "Build"("status");

-- CreateIndex
CREATE INDEX "Build_kernelRelease_idx" ON "Build"("kernelRelease");

-- CreateIndex
CREATE UNIQUE INDEX "Build_patchId_kernelRelease_key" ON "Build"("patchId", "kernelRelease");

-- AddForeignKey
ALTER TABLE "Build" ADD CONSTRAINT "Build_patchId_fkey" FOREIGN KEY ("patchId") REFERENCES "Patch"("id") ON DELETE CASCADE ON UPDATE CASCADE;
