-- A patch taken out of use (a bad fix, superseded): no new rollouts or builds, and later patches
-- of the same functions are no longer built on top of it (lib/patches/withdraw.ts).
ALTER TABLE "Patch" ADD COLUMN "withdrawnAt" TIMESTAMPTZ(3);
ALTER TABLE "Patch" ADD COLUMN "withdrawnByName" TEXT;
ALTER TABLE "Patch" ADD COLUMN "withdrawReason" TEXT;
