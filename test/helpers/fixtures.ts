import fs from "node:fs";
import path from "node:path";

const FIXTURES = path.join(import.meta.dirname, "../fixtures");

/** A unified diff from test/fixtures/diffs (stable/… for the stable-kernel diffs). */
export const diffFixture = (name: string): string => fs.readFileSync(path.join(FIXTURES, "diffs", name), "utf8");

/** A file from test/fixtures/debian: Debian's own security updates and their sources. */
export const debianFixture = (name: string): string => fs.readFileSync(path.join(FIXTURES, "debian", name), "utf8");

