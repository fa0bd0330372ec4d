import "server-only";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@/lib/generated/prisma/client";
import { metrics } from "@/lib/metrics";
import { env } from "@/lib/config";

// One client per process, kept on globalThis so Next's module copies and server.ts share it.
const globalForPrisma = globalThis as unknown as { __splicerPrisma?: PrismaClient };

export function databaseUrl(): string {
  const url = env().DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set (scripts/start.ts sets it for the embedded database)");
  return url;
}

function create(): PrismaClient {
  const adapter = new PrismaPg({ connectionString: databaseUrl(), max: env().SPLICER_DB_POOL });
  const base = new PrismaClient({ adapter });
  // Every query's latency feeds /metrics (splicer_db_query_seconds).
  return base.$extends({
    query: {
      async $allOperations({ model, operation, args, query }) {
        const end = metrics.dbQuery.startTimer({ model: model ?? "raw", operation });
        try {
          return await query(args);
        } finally {
          end();
        }
      },
    },
  }) as unknown as PrismaClient;
}

export const prisma: PrismaClient = new Proxy({} as PrismaClient, {
  get(_t, prop) {
    globalForPrisma.__splicerPrisma ??= create();
    const value = Reflect.get(globalForPrisma.__splicerPrisma, prop);
    return typeof value === "function" ? value.bind(globalForPrisma.__splicerPrisma) : value;
  },
});

export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];
/** The client or a transaction: for reads that may run inside a caller's transaction or alone. */
export type Db = Tx | PrismaClient;

export async function disconnectPrisma(): Promise<void> {
  await globalForPrisma.__splicerPrisma?.$disconnect();
  globalForPrisma.__splicerPrisma = undefined;
}
