import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach } from "vitest";

/** A fresh empty directory for each test, removed after it: `tempDirEach("splicer-x-", (d) => (dir = d))`. */
export function tempDirEach(prefix: string, set: (dir: string) => void): void {
  let dir: string | null = null;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
    set(dir);
  });
  afterEach(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
    dir = null;
  });
}
