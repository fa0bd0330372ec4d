import "server-only";
import { SettingsSchema, type Settings } from "@/lib/api/schemas";
import type { Actor } from "@/lib/audit/actor";
import { appendAudit } from "@/lib/audit/append";
import { prisma } from "@/lib/db/client";
import { notify } from "@/lib/db/bus";

export const DEFAULT_SETTINGS: Settings = { heartbeatIntervalSec: 30, staleAfterSec: 3600, hostEventRetentionDays: 90, reconverge: "flag" };
const KEY = "fleet";

export async function getSettings(): Promise<Settings> {
  const row = await prisma.setting.findUnique({ where: { key: KEY } });
  const parsed = SettingsSchema.partial().safeParse(row?.value ?? {});
  return { ...DEFAULT_SETTINGS, ...(parsed.success ? parsed.data : {}) };
}

export async function updateSettings(opts: { actor: Actor; changes: Partial<Settings> }): Promise<Settings> {
  return prisma.$transaction(async (tx) => {
    const row = await tx.setting.findUnique({ where: { key: KEY } });
    const before = { ...DEFAULT_SETTINGS, ...((row?.value as Partial<Settings>) ?? {}) };
    const after = SettingsSchema.parse({ ...before, ...opts.changes });
    await tx.setting.upsert({ where: { key: KEY }, create: { key: KEY, value: after }, update: { value: after } });
    await appendAudit(tx, { actor: opts.actor, action: "settings.updated", target: { type: "settings", id: KEY }, details: { before, after } });
    await notify(tx, { type: "settings.changed" });
    return after;
  });
}
