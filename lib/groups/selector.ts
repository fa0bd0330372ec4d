import "server-only";
import type { GroupSelector } from "@/lib/api/schemas";
import { Prisma } from "@/lib/generated/prisma/client";

/**
 * The SQL condition for "host `h` is a member": active, and listed by id or matching every other
 * criterion (see GroupSelectorSchema). Membership is always evaluated like this, live, so a host
 * that gains a label or boots another kernel joins or leaves its groups at once.
 */
export function memberSql(selector: GroupSelector, alias = "h"): Prisma.Sql {
  const a = Prisma.raw(alias);
  const parts: Prisma.Sql[] = [];
  if (selector.labels && Object.keys(selector.labels).length) parts.push(Prisma.sql`${a}.labels @> ${JSON.stringify(selector.labels)}::jsonb`);
  if (selector.kernelReleases?.length) parts.push(Prisma.sql`${a}."kernelRelease" = any(${selector.kernelReleases}::text[])`);
  if (selector.distros?.length) parts.push(Prisma.sql`${a}."distroId" = any(${selector.distros}::text[])`);
  let match = selector.all ? Prisma.sql`true` : parts.length ? Prisma.join(parts, " and ") : Prisma.sql`false`;
  if (selector.hostIds?.length) match = Prisma.sql`(${match}) or ${a}.id = any(${selector.hostIds}::uuid[])`;
  return Prisma.sql`(${a}.status = 'active' and (${match}))`;
}

/** The selector as one line an operator reads: `env=prod, role=web · kernel 6.1.0-50-amd64 · 3 hosts`. */
export function describeSelector(s: GroupSelector): string {
  if (s.all) return "every host";
  const out: string[] = [];
  if (s.labels && Object.keys(s.labels).length) out.push(Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(", "));
  if (s.kernelReleases?.length) out.push(`kernel ${s.kernelReleases.join(" or ")}`);
  if (s.distros?.length) out.push(`distro ${s.distros.join(" or ")}`);
  const crit = out.join(" · ");
  if (s.hostIds?.length) return crit ? `${crit}, plus ${s.hostIds.length} listed host${s.hostIds.length === 1 ? "" : "s"}` : `${s.hostIds.length} listed host${s.hostIds.length === 1 ? "" : "s"}`;
  return crit;
}
