-- A build's outcome and report (issue 10, point 5): how each release's build ended (built, refused,
-- not built in the release, does not compile alone, already fixed in the release, …) and, when
-- built, which functions its module replaces (with their kallsyms sympos) and adds.

-- CreateEnum
CREATE TYPE "BuildOutcome" AS ENUM ('built', 'refused', 'not_built', 'does_not_compile', 'already_fixed', 'failed', 'timeout', 'bad_output');

-- AlterTable
ALTER TABLE "Build" ADD COLUMN     "outcome" "BuildOutcome",
ADD COLUMN     "report" JSONB;

-- Builds finished before: built or failed (why is only in their error text).
UPDATE "Build" SET "outcome" = 'built' WHERE "status" = 'succeeded';
UPDATE "Build" SET "outcome" = 'failed' WHERE "status" = 'failed';
