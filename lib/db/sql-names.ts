import "server-only";
// Enum names (host states, job phases, build statuses) as SQL, so a query never spells one:
// `state in ${sqlList(IN_FLIGHT_HOST_STATES)}`. Rendered inline (not as parameters) like the
// literals they replace: they are the modules' constants, checked to be plain names, never input.
import { Prisma } from "@/lib/generated/prisma/client";

const NAME = /^[a-z_]+$/;

function quote(v: string): string {
  if (!NAME.test(v)) throw new Error(`not an enum name: ${JSON.stringify(v)}`);
  return `'${v}'`;
}

/** `'name'`. */
export const sqlName = (v: string): Prisma.Sql => Prisma.raw(quote(v));

/** `('a', 'b')`, for `x in …`. */
export const sqlList = (values: readonly string[]): Prisma.Sql => Prisma.raw(`(${values.map(quote).join(", ")})`);

/** The 1-based position of `column` (text) in `order`, null when absent: for `order by`. */
export const sqlPosition = (order: readonly string[], column: Prisma.Sql): Prisma.Sql =>
  Prisma.sql`array_position(${Prisma.raw(`array[${order.map(quote).join(",")}]::text[]`)}, ${column})`;

/** `(case column when 'a' then 1 … end)`: a rank by name, null for a name not ranked. */
export const sqlRank = (ranks: Readonly<Record<string, number>>, column: Prisma.Sql): Prisma.Sql =>
  Prisma.sql`(case ${column} ${Prisma.raw(Object.entries(ranks).map(([k, n]) => `when ${quote(k)} then ${Number(n)}`).join(" "))} end)`;

/** The names (text[]) of the livepatches loaded and enabled on the host row `alias`: the same test as liveOnHost, for all of them. */
export const liveModules = (alias = "h"): Prisma.Sql =>
  Prisma.sql`array(select lp->>'name' from jsonb_array_elements(${Prisma.raw(`${alias}.livepatches`)}) lp where lp @> '{"enabled": true}'::jsonb)`;

/** The livepatch `module` (SQL) is loaded and enabled on the host row `alias` (its inventory's livepatches). */
export const liveOnHost = (module: Prisma.Sql, alias = "h"): Prisma.Sql =>
  Prisma.sql`${Prisma.raw(`${alias}.livepatches`)} @> jsonb_build_array(jsonb_build_object('name', ${module}, 'enabled', true))`;
