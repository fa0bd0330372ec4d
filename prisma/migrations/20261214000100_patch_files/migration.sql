-- The files a patch changes (from its analysis), as an array: which patches share a file is asked
-- by the build queue and stacking (lib/builds/stacks.ts) for many pairs at once.
ALTER TABLE "Patch" ADD COLUMN "files" TEXT[] DEFAULT ARRAY[]::TEXT[];
UPDATE "Patch" SET "files" = ARRAY(SELECT f->>'path' FROM jsonb_array_elements(analysis->'files') f WHERE f->>'path' IS NOT NULL);
CREATE INDEX "Patch_files_idx" ON "Patch" USING GIN ("files");
