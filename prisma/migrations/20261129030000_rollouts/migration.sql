-- CreateEnum
CREATE TYPE "RolloutKind" AS ENUM ('apply', 'rollback');

-- CreateEnum
CREATE TYPE "RolloutStatus" AS ENUM ('running', 'paused', 'aborting', 'aborted', 'completed');

-- CreateEnum
CREATE TYPE "RolloutHostState" AS ENUM ('pending', 'waiting_for_build', 'dispatched', 'downloading', 'applying', 'verifying', 'succeeded', 'failed', 'skipped', 'unreachable', 'reverted');

-- CreateTable
CREATE TABLE "Group" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "selector" JSONB NOT NULL,
    "createdById" UUID,
    "createdByName" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Group_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Rollout" (
    "id" UUID NOT NULL,
    "number" SERIAL NOT NULL,
    "kind" "RolloutKind" NOT NULL DEFAULT 'apply',
    "patchId" UUID NOT NULL,
    "groupId" UUID,
    "groupName" TEXT NOT NULL,
    "rollbackOfId" UUID,
    "status" "RolloutStatus" NOT NULL DEFAULT 'running',
    "pauseKind" TEXT,
    "pauseReason" TEXT,
    "strategy" JSONB NOT NULL,
    "waveCount" INTEGER NOT NULL,
    "currentWave" INTEGER NOT NULL DEFAULT 0,
    "nextWaveAt" TIMESTAMPTZ(3),
    "canaryApproved" BOOLEAN NOT NULL DEFAULT false,
    "failuresAccepted" INTEGER NOT NULL DEFAULT 0,
    "hostCount" INTEGER NOT NULL,
    "createdById" UUID,
    "createdByName" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Rollout_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RolloutHost" (
    "id" UUID NOT NULL,
    "rolloutId" UUID NOT NULL,
    "hostId" UUID NOT NULL,
    "hostname" TEXT NOT NULL,
    "kernelRelease" TEXT NOT NULL,
    "wave" INTEGER,
    "state" "RolloutHostState" NOT NULL,
    "buildId" UUID,
    "error" TEXT,
    "log" TEXT NOT NULL DEFAULT '',
    "blockingTasks" JSONB,
    "dispatchedAt" TIMESTAMPTZ(3),
    "deadlineAt" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RolloutHost_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Group_name_key" ON "Group"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Rollout_number_key" ON "Rollout"("number");

-- CreateIndex
CREATE UNIQUE INDEX "Rollout_rollbackOfId_key" ON "Rollout"("rollbackOfId");

-- CreateIndex
CREATE INDEX "Rollout_status_idx" ON "Rollout"("status");

-- CreateIndex
CREATE INDEX "Rollout_patchId_idx" ON "Rollout"("patchId");

-- CreateIndex
CREATE INDEX "Rollout_createdAt_idx" ON "Rollout"("createdAt");

-- CreateIndex
CREATE INDEX "RolloutHost_rolloutId_state_idx" ON "RolloutHost"("rolloutId", "state");

-- CreateIndex
CREATE INDEX "RolloutHost_rolloutId_wave_idx" ON "RolloutHost"("rolloutId", "wave");

-- CreateIndex
CREATE INDEX "RolloutHost_hostId_state_idx" ON "RolloutHost"("hostId", "state");

-- CreateIndex
CREATE UNIQUE INDEX "RolloutHost_rolloutId_hostId_key" ON "RolloutHost"("rolloutId", "hostId");

-- AddForeignKey
ALTER TABLE "Rollout" ADD CONSTRAINT "Rollout_patchId_fkey" FOREIGN KEY ("patchId") REFERENCES "Patch"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Rollout" ADD CONSTRAINT "Rollout_groupId_fkey" FOREIGN KEY ("groupId") REFERENCES "Group"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Rollout" ADD CONSTRAINT "Rollout_rollbackOfId_fkey" FOREIGN KEY ("rollbackOfId") REFERENCES "Rollout"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RolloutHost" ADD CONSTRAINT "RolloutHost_rolloutId_fkey" FOREIGN KEY ("rolloutId") REFERENCES "Rollout"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RolloutHost" ADD CONSTRAINT "RolloutHost_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE CASCADE ON UPDATE CASCADE;
