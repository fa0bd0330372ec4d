-- Each audit event carries a keyed MAC of its hash, made with a key kept in the console's data dir
-- (lib/audit/anchor-store.ts): someone who can write the database but not read that key cannot
-- recompute a valid chain. Events written before this column existed keep NULL; they are covered
-- by the first signed checkpoint of the chain's head (lib/audit/anchor.ts).
ALTER TABLE "AuditEvent" ADD COLUMN "mac" TEXT;
