import { defineConfig } from "prisma/config";

// Prisma 7 reads the connection from here, not from schema.prisma. `prisma migrate deploy` works
// with it where Prisma's schema engine can be downloaded; elsewhere lib/db/migrate.ts applies the
// same SQL files.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://postgres@localhost:5432/splicer" },
});
