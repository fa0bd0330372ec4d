// Prisma 6's CLI computes `migrate diff` with its WebAssembly engine, with no native binary to
// download (Prisma 7's CLI cannot, offline). Used by scripts/new-migration.ts and the schema test.
import { defineConfig } from "prisma6/config";
import { PrismaPg } from "@prisma/adapter-pg";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: process.env.PRISMA6_SCHEMA ?? "prisma/schema.prisma",
  async adapter() {
    return new PrismaPg({ connectionString: process.env.DATABASE_URL ?? "postgresql://postgres@localhost:5432/postgres" });
  },
} as never);
