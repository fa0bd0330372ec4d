import "server-only";
import type { EnrollRequest, EnrollResponse } from "@/agent/protocol";
import { appendAuditMany } from "@/lib/audit/append";
import { loadSigningKey } from "@/lib/builds/signing";
import { dataDir } from "@/lib/config";
import { newSecret, sha256 } from "@/lib/crypto";
import { prisma, type Tx } from "@/lib/db/client";
import { DomainError } from "@/lib/errors";
import { log } from "@/lib/log";
import { notify } from "@/lib/realtime/bus";
import { tokenState } from "./enrollment-tokens";

export class EnrollmentRefusedError extends DomainError {
  constructor(message: string) {
    super("enrollment_refused", message, 403);
  }
}

export type EnrollInput = EnrollRequest & { ip: string | null };
type Outcome = { ok: true; response: EnrollResponse } | { ok: false; error: EnrollmentRefusedError };

/**
 * Exchanges an enrollment token for a per-host credential. A machine that enrolls again (a
 * reinstall, or a revoked host brought back with a new token) keeps its host record and history
 * and gets a new credential; the old one stops working at once.
 *
 * Concurrent requests are enrolled together, in batches of one transaction each: a token's use
 * count and the audit chain are both serialised by locks held until commit, so one enrollment per
 * transaction caps a console at a few dozen a second, too slow for a fleet enrolling at once.
 */
// Read once per process: thousands of agents enroll at once after a fleet install.
let consoleKey: ReturnType<typeof loadSigningKey> | undefined;

export async function enrollHost(input: EnrollInput): Promise<EnrollResponse> {
  consoleKey ??= loadSigningKey({ dataDir: dataDir() }).catch((err) => {
    consoleKey = undefined;
    throw err;
  });
  const [res, key] = await Promise.all([batcher().submit(input), consoleKey]);
  // The agent pins this key and verifies every artifact with it before loading anything.
  return { ...res, consolePublicKey: key.publicKeyPem };
}

const MAX_BATCH = 200;

class EnrollmentBatcher {
  private queue: { input: EnrollInput; resolve: (r: EnrollResponse) => void; reject: (e: unknown) => void }[] = [];
  private running = false;

  submit(input: EnrollInput): Promise<EnrollResponse> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        // One request per machine per batch: the same machine twice would upsert one row twice.
        const batch: typeof this.queue = [];
        const machines = new Set<string>();
        const rest: typeof this.queue = [];
        for (const item of this.queue) {
          if (batch.length < MAX_BATCH && !machines.has(item.input.machineId)) {
            machines.add(item.input.machineId);
            batch.push(item);
          } else rest.push(item);
        }
        this.queue = rest;
        try {
          const outcomes = await enrollBatch(batch.map((b) => b.input));
          outcomes.forEach((o, i) => (o.ok ? batch[i].resolve(o.response) : batch[i].reject(o.error)));
        } catch (err) {
          log.error({ err, size: batch.length }, "enrollment batch failed");
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

const g = globalThis as unknown as { __splicerEnrollBatcher?: EnrollmentBatcher };
const batcher = () => (g.__splicerEnrollBatcher ??= new EnrollmentBatcher());

/** Enrolls a batch in one transaction; each input gets its own outcome, in input order. */
export async function enrollBatch(inputs: EnrollInput[]): Promise<Outcome[]> {
  return prisma.$transaction(
    async (tx) => {
      const outcomes: (Outcome | null)[] = inputs.map(() => null);
      const grantedTokenId = new Map<number, string>();
      const byToken = new Map<string, number[]>();
      inputs.forEach((inp, i) => {
        const h = sha256(inp.enrollmentToken);
        byToken.set(h, [...(byToken.get(h) ?? []), i]);
      });
      for (const [tokenHash, idx] of byToken) {
        // Grant as many uses as are left, to the earliest requests; the row stays locked until commit.
        const [grant] = await tx.$queryRaw<{ id: string; granted: number }[]>`
          with t as (
            select id, uses, "maxUses" from "EnrollmentToken"
            where "tokenHash" = ${tokenHash} and "revokedAt" is null and "expiresAt" > now() and uses < "maxUses"
            for update)
          update "EnrollmentToken" e set uses = t.uses + least(${idx.length}::int, t."maxUses" - t.uses)
          from t where e.id = t.id
          returning e.id::text as id, least(${idx.length}::int, t."maxUses" - t.uses)::int as granted`;
        const granted = grant?.granted ?? 0;
        idx.slice(0, granted).forEach((i) => grantedTokenId.set(i, grant!.id));
        if (granted < idx.length) {
          const t = await tx.enrollmentToken.findUnique({ where: { tokenHash } });
          const why = !t ? "is not known" : { revoked: "was revoked", expired: "has expired", used_up: "has no uses left", active: "has no uses left" }[tokenState(t)];
          const error = new EnrollmentRefusedError(`enrollment token ${why}; create a new one on the console's Add hosts page`);
          for (const i of idx.slice(granted)) outcomes[i] = { ok: false, error };
        }
      }
      const accepted = [...grantedTokenId.keys()].sort((a, b) => a - b);
      if (accepted.length > 0) {
        const credentials = accepted.map(() => newSecret("agt"));
        const hosts = await upsertHosts(tx, accepted.map((i, k) => ({ ...inputs[i], credentialHash: sha256(credentials[k]), tokenId: grantedTokenId.get(i)! })));
        await notify(tx, { type: "hosts.changed", ids: hosts.map((h) => h.id) });
        for (const h of hosts) if (h.priorStatus) await notify(tx, { type: "host.credential_rotated", hostId: h.id });
        await appendAuditMany(
          tx,
          accepted.map((i, k) => ({
            actor: { type: "agent" as const, id: hosts[k].id, name: inputs[i].hostname, ip: inputs[i].ip },
            action: hosts[k].priorStatus ? "host.reenrolled" : "host.enrolled",
            target: { type: "host", id: hosts[k].id },
            details: {
              hostname: inputs[i].hostname,
              machineId: inputs[i].machineId,
              enrollmentTokenId: grantedTokenId.get(i),
              ...(hosts[k].priorStatus ? { previousStatus: hosts[k].priorStatus } : {}),
            },
          })),
        );
        accepted.forEach((i, k) => (outcomes[i] = { ok: true, response: { hostId: hosts[k].id, credential: credentials[k] } }));
      }
      return outcomes as Outcome[];
    },
    { maxWait: 30_000, timeout: 60_000 },
  );
}

/** Creates or re-activates the hosts and writes their `enrolled` timeline entries, in one statement. */
async function upsertHosts(
  tx: Tx,
  rows: { machineId: string; hostname: string; credentialHash: string; ip: string | null; tokenId: string }[],
): Promise<{ id: string; priorStatus: string | null }[]> {
  const result = await tx.$queryRaw<{ id: string; machineId: string; priorStatus: string | null }[]>`
    with input as (
      select * from unnest(${rows.map((r) => r.machineId)}::text[], ${rows.map((r) => r.hostname)}::text[],
                           ${rows.map((r) => r.credentialHash)}::text[], ${rows.map((r) => r.ip)}::text[],
                           ${rows.map((r) => r.tokenId)}::uuid[])
        as i("machineId", hostname, "credentialHash", ip, "tokenId")),
    prior as (select h.id, h."machineId", h.status from "Host" h join input using ("machineId")),
    up as (
      insert into "Host" (id, "machineId", hostname, "credentialHash", "lastIp", status, "enrolledAt", "enrollmentTokenId")
      select gen_random_uuid(), "machineId", hostname, "credentialHash", ip, 'active', now(), "tokenId" from input
      on conflict ("machineId") do update set hostname = excluded.hostname, "credentialHash" = excluded."credentialHash",
        "lastIp" = excluded."lastIp", status = 'active', "enrolledAt" = now(), "enrollmentTokenId" = excluded."enrollmentTokenId"
      returning id, "machineId"),
    ev as (
      insert into "HostEvent" ("hostId", type, details)
      select up.id, 'enrolled', jsonb_build_object('reenrolled', prior.id is not null, 'previousStatus', prior.status)
      from up left join prior using ("machineId"))
    select up.id::text as id, up."machineId", prior.status::text as "priorStatus"
    from up left join prior using ("machineId")`;
  const byMachine = new Map(result.map((r) => [r.machineId, r]));
  return rows.map((r) => byMachine.get(r.machineId)!);
}
