import "server-only";
import type { Inventory, Livepatch } from "@/agent/protocol";
import { prisma } from "@/lib/db/client";
import { BUS_CHANNEL, encodeBusEvent, notify } from "@/lib/db/bus";

/**
 * A host that comes back within this long of its disconnect "blinked": its timeline keeps one
 * "reconnected ×N" entry (count, last reason, first and last time) instead of two rows per
 * blink, so a flapping agent cannot grow the table, and an operator still sees that (and how
 * often, and why) it flaps. A longer absence, or a reconnect after other events, starts afresh.
 */
export const RECONNECT_COALESCE_SEC = 300;

/**
 * Marks a host online for a new connection; returns the connection's timestamp (its generation).
 * One statement (row, timeline entry, bus event): thousands of agents connect at once after a
 * console restart, and every round trip counts.
 */
export async function markConnected(opts: { hostId: string; ip: string | null; connectionId: string; at?: Date }): Promise<Date> {
  const at = opts.at ?? new Date();
  const since = new Date(at.getTime() - RECONNECT_COALESCE_SEC * 1000);
  await prisma.$queryRaw`
    with h as (
      update "Host" set online = true, "connectedAt" = ${at}, "lastSeenAt" = ${at}, "lastIp" = ${opts.ip}
      -- Generations only move forward: when two connections of a host race, the older one's
      -- write must not land after the newer one's (its disconnect would then take the host offline).
      where id = ${opts.hostId}::uuid and ("connectedAt" is null or "connectedAt" < ${at}) returning id),
    -- The host's two latest timeline entries, if recent: a blink is "disconnected" just now,
    -- possibly after the "reconnected" entry of earlier blinks.
    recent as (
      select id, type, at, details, row_number() over (order by at desc, id desc) as rn
      from "HostEvent" where "hostId" = ${opts.hostId}::uuid and at >= ${since}
      order by at desc, id desc limit 2),
    blink as (select * from recent where rn = 1 and type = 'disconnected' and exists (select 1 from h)),
    prior as (select * from recent where rn = 2 and type = 'reconnected' and exists (select 1 from blink)),
    counted as (
      update "HostEvent" e set at = ${at}, details = e.details || jsonb_build_object(
        'count', coalesce((e.details->>'count')::int, 1) + 1, 'lastReason', (select details->'reason' from blink), 'ip', ${opts.ip}::text)
      from prior where e.id = prior.id returning e.id),
    dropped as (delete from "HostEvent" e using blink where e.id = blink.id and exists (select 1 from counted) returning e.id),
    converted as (
      update "HostEvent" e set type = 'reconnected', at = ${at}, details = jsonb_build_object(
        'count', 1, 'lastReason', blink.details->'reason', 'ip', ${opts.ip}::text, 'firstAt', blink.at)
      from blink where e.id = blink.id and not exists (select 1 from prior) returning e.id),
    ev as (
      insert into "HostEvent" ("hostId", at, type, details)
      select id, ${at}, 'connected', jsonb_build_object('ip', ${opts.ip}::text) from h where not exists (select 1 from blink)),
    bus as (
      select pg_notify(${BUS_CHANNEL}, ${encodeBusEvent({ type: "hosts.changed", ids: [opts.hostId] })}) from h
      union all
      -- Other console processes drop any older connection of this host.
      select pg_notify(${BUS_CHANNEL}, ${encodeBusEvent({ type: "host.connected", hostId: opts.hostId, connectionId: opts.connectionId, at: at.toISOString() })}) from h)
    select (select count(*) from bus)::int as notified, (select count(*) from dropped)::int + (select count(*) from converted)::int as coalesced`;
  return at;
}

/**
 * Marks a host offline when its connection ends, unless a newer connection (here or in another
 * console process) has replaced it: the `connectedAt` generation check makes that race harmless.
 */
export async function markDisconnected(opts: { hostId: string; connectedAt: Date; reason: string }): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    const n = await tx.host.updateMany({
      where: { id: opts.hostId, connectedAt: opts.connectedAt, online: true },
      data: { online: false, lastSeenAt: new Date() },
    });
    if (n.count === 0) return false;
    await tx.hostEvent.create({ data: { hostId: opts.hostId, type: "disconnected", details: { reason: opts.reason } } });
    await notify(tx, { type: "hosts.changed", ids: [opts.hostId] });
    return true;
  });
}

/**
 * At the start of the only console process (the embedded database): nobody can be connected yet,
 * whatever the last run left behind (a Ctrl-C also stops the embedded database at once).
 */
export async function markAllOffline(opts: { reason: string }): Promise<number> {
  return prisma.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ id: string }[]>`update "Host" set online = false where online returning id`;
    if (rows.length === 0) return 0;
    await tx.hostEvent.createMany({ data: rows.map((r) => ({ hostId: r.id, type: "disconnected", details: { reason: opts.reason } })) });
    return rows.length;
  });
}

/** Marks several hosts offline at once (a console process shutting down). */
export async function markManyDisconnected(opts: { hostIds: string[]; reason: string }): Promise<void> {
  if (opts.hostIds.length === 0) return;
  await prisma.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      update "Host" set online = false, "lastSeenAt" = now()
      where id = any(${opts.hostIds}::uuid[]) and online returning id`;
    await tx.hostEvent.createMany({ data: rows.map((r) => ({ hostId: r.id, type: "disconnected", details: { reason: opts.reason } })) });
    await notify(tx, { type: "hosts.changed", ids: rows.map((r) => r.id) });
  });
}

function sortedLivepatches(l: Livepatch[]): Livepatch[] {
  return [...l].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Stores an agent's inventory and records what changed in the host's timeline: a new boot id is
 * a reboot, a new kernel release a kernel change, a different livepatch set a livepatch change.
 * The common case (a reconnect, nothing changed) is one statement: the update returns the values
 * it replaced, and timeline entries are written only when something did change.
 */
export async function ingestInventory(opts: { hostId: string; inventory: Inventory }): Promise<{ changed: string[]; first: boolean }> {
  const inv = opts.inventory;
  const livepatches = sortedLivepatches(inv.livepatches);
  const [prev] = await prisma.$queryRaw<{ bootId: string; kernelRelease: string; livepatches: Livepatch[]; first: boolean }[]>`
    with old as (
      select id, "bootId", "kernelRelease", livepatches, "inventoryAt" is null as first
      from "Host" where id = ${opts.hostId}::uuid for update),
    upd as (
      update "Host" h set hostname = ${inv.hostname}, "bootId" = ${inv.bootId}, "kernelRelease" = ${inv.kernelRelease},
        "kernelVersion" = ${inv.kernelVersion}, "distroId" = ${inv.distro.id}, "distroName" = ${inv.distro.name},
        "distroVersion" = ${inv.distro.version}, arch = ${inv.arch}, "uptimeSec" = ${inv.uptimeSec}, "cpuCount" = ${inv.cpuCount},
        "memoryBytes" = ${BigInt(inv.memoryBytes)}, "agentVersion" = ${inv.agentVersion}, livepatches = ${JSON.stringify(livepatches)}::jsonb,
        -- An agent that predates reload reports sends none: keep none rather than an old boot's.
        "reloadReport" = ${inv.reload ? JSON.stringify(inv.reload) : null}::jsonb,
        "inventoryAt" = now(), "lastSeenAt" = now()
      from old where h.id = old.id returning h.id),
    bus as (select pg_notify(${BUS_CHANNEL}, ${encodeBusEvent({ type: "hosts.changed", ids: [opts.hostId] })}) from upd)
    select old."bootId", old."kernelRelease", old.livepatches, old.first, (select count(*) from bus)::int as notified from old`;
  if (!prev || prev.first) return { changed: [], first: Boolean(prev?.first) };
  const changed: string[] = [];
  const events: { type: string; details: Record<string, unknown> }[] = [];
  if (prev.bootId && prev.bootId !== inv.bootId) {
    changed.push("rebooted");
    events.push({ type: "rebooted", details: { fromBootId: prev.bootId, toBootId: inv.bootId } });
  }
  if (prev.kernelRelease !== inv.kernelRelease) {
    changed.push("kernel_changed");
    events.push({ type: "kernel_changed", details: { from: prev.kernelRelease, to: inv.kernelRelease } });
  }
  if (inv.reload && prev.bootId !== inv.bootId && inv.reload.bootId === inv.bootId && inv.reload.patches.length) {
    changed.push("reloaded");
    events.push({ type: "reloaded", details: { bootId: inv.bootId, patches: inv.reload.patches } });
  }
  const prevLp = sortedLivepatches(prev.livepatches ?? []);
  if (JSON.stringify(prevLp) !== JSON.stringify(livepatches)) {
    changed.push("livepatches_changed");
    const before = new Set(prevLp.map((l) => l.name));
    const after = new Set(livepatches.map((l) => l.name));
    events.push({
      type: "livepatches_changed",
      details: { loaded: [...after].filter((n) => !before.has(n)), unloaded: [...before].filter((n) => !after.has(n)), livepatches },
    });
  }
  if (events.length) {
    // Raw: after every rollout job each host's livepatches change, thousands at a time.
    await prisma.$executeRaw`
      insert into "HostEvent" ("hostId", type, details)
      select ${opts.hostId}::uuid, u.type, u.details
      from unnest(${events.map((e) => e.type)}::text[], ${events.map((e) => JSON.stringify(e.details))}::jsonb[]) as u(type, details)`;
  }
  return { changed, first: false };
}

/** One UPDATE for a batch of heartbeats: 5,000 agents every 30 s are ~170 rows/s, not ~170 statements/s. */
export async function recordHeartbeats(hostIds: string[]): Promise<number> {
  if (hostIds.length === 0) return 0;
  return prisma.$executeRaw`update "Host" set "lastSeenAt" = now() where id = any(${hostIds}::uuid[]) and status = 'active'`;
}

/**
 * Marks offline every host marked online whose last heartbeat is older than `silentForSec`: its
 * console process died without saying goodbye. Safe to run from every process at once.
 */
export async function sweepSilentHosts(opts: { silentForSec: number }): Promise<string[]> {
  return prisma.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      update "Host" set online = false
      where online and "lastSeenAt" < now() - make_interval(secs => ${opts.silentForSec})
      returning id`;
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    await tx.hostEvent.createMany({ data: ids.map((hostId) => ({ hostId, type: "disconnected", details: { reason: "no heartbeat" } })) });
    await notify(tx, { type: "hosts.changed", ids });
    return ids;
  });
}
