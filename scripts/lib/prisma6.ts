import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const ROOT = path.resolve(import.meta.dirname, "../..");

/**
 * The SQL that builds prisma/schema.prisma from an empty database, computed by Prisma 6's CLI
 * with its WebAssembly engine (Prisma 7's CLI needs a native engine that cannot be downloaded
 * here). It needs a reachable PostgreSQL at `url` although it does not change it.
 */
export async function schemaSqlFromEmpty(url: string): Promise<string> {
  const fake = path.join(ROOT, "package.json"); // engines are located, never run, for `diff`
  // Prisma 6 insists on a `url` in the datasource block, which Prisma 7 forbids: diff a copy.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-prisma6-"));
  const schema = path.join(tmp, "schema.prisma");
  fs.writeFileSync(
    schema,
    fs
      .readFileSync(path.join(ROOT, "prisma/schema.prisma"), "utf8")
      .replace(/datasource db \{/, 'datasource db {\n  url = env("DATABASE_URL")'),
  );
  try {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      path.join(ROOT, "node_modules/prisma6/build/index.js"),
      "migrate", "diff", "--config", "prisma/prisma6.config.ts",
      "--from-empty", "--to-schema-datamodel", schema, "--script",
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: url,
        PRISMA_QUERY_ENGINE_LIBRARY: fake,
        PRISMA_SCHEMA_ENGINE_BINARY: fake,
        PRISMA6_SCHEMA: schema,
        PRISMA_HIDE_UPDATE_MESSAGE: "1",
        CHECKPOINT_DISABLE: "1",
      },
      maxBuffer: 16 << 20,
    },
  );
  return stdout;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
