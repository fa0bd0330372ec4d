-- Build workers (issue 10, point 8): builds run in processes that may live on other machines,
-- taking jobs straight from the Build table (claimed with FOR UPDATE SKIP LOCKED, held by a lease).
-- Each worker registers itself (BuildWorker) and keeps a heartbeat; a build names the worker that
-- ran it. A worker leaves its result in Build.result; a console records it (signs the artifact,
-- writes the audit event): the signing and audit keys never leave the consoles. Artifacts move into Postgres so that a worker elsewhere can store what it built and
-- every console can serve it; consoles keep a disk copy as a cache. The console backfills this
-- table from its disk for artifacts built before it existed (lib/builds/artifacts.ts).

-- AlterTable
ALTER TABLE "Build" ADD COLUMN     "result" JSONB,
ADD COLUMN     "retryAt" TIMESTAMPTZ(3),
ADD COLUMN     "workerId" UUID;

-- CreateTable
CREATE TABLE "BuildWorker" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "hostname" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "builder" TEXT NOT NULL,
    "concurrency" INTEGER NOT NULL,
    "running" INTEGER NOT NULL DEFAULT 0,
    "releases" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "startedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "aliveUntil" TIMESTAMPTZ(3) NOT NULL,
    "stoppedAt" TIMESTAMPTZ(3),

    CONSTRAINT "BuildWorker_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Artifact" (
    "sha256" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "content" BYTEA NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Artifact_pkey" PRIMARY KEY ("sha256")
);

-- CreateIndex
CREATE INDEX "Build_workerId_idx" ON "Build"("workerId");

-- CreateIndex
CREATE INDEX "BuildWorker_lastSeenAt_idx" ON "BuildWorker"("lastSeenAt");

-- AddForeignKey
ALTER TABLE "Build" ADD CONSTRAINT "Build_workerId_fkey" FOREIGN KEY ("workerId") REFERENCES "BuildWorker"("id") ON DELETE SET NULL ON UPDATE CASCADE;
