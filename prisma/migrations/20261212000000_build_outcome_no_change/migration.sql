-- A patch whose compiled code is the same as the release's (a `static` dropped from a variable
-- that another file's fix uses, a change under an #ifdef the config leaves out): nothing to do.
ALTER TYPE "BuildOutcome" ADD VALUE 'no_change' AFTER 'already_fixed';
