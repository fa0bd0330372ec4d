// One embedded PostgreSQL for the whole run, with a migrated template database; each test
// file clones it (CREATE DATABASE … TEMPLATE) in ~100 ms instead of migrating again.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../../lib/db/embedded";
import { migrate } from "../../lib/db/migrate";

declare module "vitest" {
  export interface ProvidedContext {
    /** The test cluster's superuser, on the template database (creating databases). */
    pgTemplateUrl: string;
    /** The console's role (not a superuser) on the template database, as production connects. */
    pgConsoleUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-test-pg-"));
  const db = await startEmbeddedPostgres({ dataDir, persistent: false, database: "splicer_template" });
  // As the console's own role, like production: the template and its clones belong to it.
  await migrate({ url: db.url });
  project.provide("pgTemplateUrl", db.superuserUrl);
  project.provide("pgConsoleUrl", db.url);
  return async () => {
    await db.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
}
