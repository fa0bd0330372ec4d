-- A machine id is an inventory fact, not an identity: a second enrollment reporting a known machine
-- id becomes a new host flagged as a possible duplicate instead of taking over the existing one.
DROP INDEX "Host_machineId_key";

ALTER TABLE "Host" ADD COLUMN "duplicateOfId" UUID,
ADD COLUMN "mergedIntoId" UUID;

CREATE INDEX "Host_machineId_idx" ON "Host"("machineId");

CREATE INDEX "Host_duplicateOfId_idx" ON "Host"("duplicateOfId");

ALTER TABLE "Host" ADD CONSTRAINT "Host_duplicateOfId_fkey" FOREIGN KEY ("duplicateOfId") REFERENCES "Host"("id") ON DELETE SET NULL ON UPDATE CASCADE;

ALTER TABLE "Host" ADD CONSTRAINT "Host_mergedIntoId_fkey" FOREIGN KEY ("mergedIntoId") REFERENCES "Host"("id") ON DELETE SET NULL ON UPDATE CASCADE;
