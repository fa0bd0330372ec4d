-- Issue 9, items 3 and 7.

-- Tokens of operators who are already disabled die with them.
UPDATE "ApiToken" SET "revokedAt" = CURRENT_TIMESTAMP
WHERE "revokedAt" IS NULL AND "createdById" IN (SELECT "id" FROM "Operator" WHERE "disabledAt" IS NOT NULL);

-- Every API token expires: tokens made without an expiry get 90 days from this upgrade.
UPDATE "ApiToken" SET "expiresAt" = CURRENT_TIMESTAMP + INTERVAL '90 days' WHERE "expiresAt" IS NULL;
ALTER TABLE "ApiToken" ALTER COLUMN "expiresAt" SET NOT NULL;

-- CreateTable
CREATE TABLE "LoginThrottle" (
    "key" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL,
    "lastAt" TIMESTAMPTZ(3) NOT NULL,
    "blockedUntil" TIMESTAMPTZ(3),

    CONSTRAINT "LoginThrottle_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "LoginThrottle_lastAt_idx" ON "LoginThrottle"("lastAt");
