import "server-only";
import type { EnrollRequest, EnrollResponse } from "@/agent/protocol";
import { appendAuditMany } from "@/lib/audit/append";
import { loadSigningKey } from "@/lib/signing/signing";
import { dataDir } from "@/lib/config";
import { newSecret, sha256 } from "@/lib/crypto";
import { prisma, type Tx } from "@/lib/db/client";
import { DomainError } from "@/lib/errors";
import { rowErrorMessage, writeIsolatingBadRows } from "@/lib/db/isolate";
import { log } from "@/lib/log";
import { notify } from "@/lib/db/bus";
import { tokenState } from "./enrollment-tokens";
import { credentialMatches } from "./credentials";

export class EnrollmentRefusedError extends DomainError {
  constructor(message: string) {
    super("enrollment_refused", message, 403);
  }
}

/** The database refused to store what this agent sent (e.g. text Postgres cannot hold). */
export class EnrollmentUnstorableError extends DomainError {
  constructor(message: string) {
    super("enrollment_unstorable", message, 400);
  }
}

export type EnrollInput = EnrollRequest & { ip: string | null };
type Outcome = { ok: true; response: EnrollResponse } | { ok: false; error: DomainError };

/**
 * Exchanges an enrollment token for a per-host credential, for a new host. A machine id is an
 * inventory fact every viewer can read, not a secret: enrolling with one an existing host reports
 * creates a NEW host flagged as a possible duplicate of it (an admin merges or revokes it), and
 * never hands out the existing host's id or credential. An agent that still has its credential
 * (kept aside when the console refused it, or a reinstall that kept its state) presents it as
 * `previous`: a valid one gets the same host a new credential (no token needed), unless the host
 * is revoked, which only an admin's restore undoes.
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
        // One request per machine id per batch: the duplicate check of a new host must see any
        // other host of that machine id, which a sibling row of the same insert would not be.
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
          const outcomes = await enrollIsolated(batch.map((b) => b.input));
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

/**
 * Enrolls a batch so that one request the database refuses cannot fail the others: the batch is
 * written by writeIsolatingBadRows (split in halves on a row's error, down to the one at fault,
 * each attempt its own transaction so nothing of a failed one is kept); the request at fault gets
 * a 400, and an error that is not about the data (database down) fails the batch at once.
 */
export async function enrollIsolated(inputs: EnrollInput[]): Promise<Outcome[]> {
  const outcomes = new Map<EnrollInput, Outcome>();
  const { refused, failed } = await writeIsolatingBadRows(inputs, async (part) => {
    const res = await enrollBatch(part);
    part.forEach((input, i) => outcomes.set(input, res[i]));
  });
  if (failed.length > 0) throw failed[0].error;
  for (const { item, error } of refused) {
    log.warn({ err: error, machineId: item.machineId.slice(0, 64), ip: item.ip }, "enrollment refused: the database cannot store this request");
    outcomes.set(item, { ok: false, error: new EnrollmentUnstorableError(`the hostname or machine id cannot be stored: ${rowErrorMessage(error)}`) });
  }
  return inputs.map((input) => outcomes.get(input)!);
}

type ProvenHost = { id: string; hostname: string; via: string };

/** Enrolls a batch in one transaction; each input gets its own outcome, in input order. */
export async function enrollBatch(inputs: EnrollInput[]): Promise<Outcome[]> {
  return prisma.$transaction(
    async (tx) => {
      const outcomes: (Outcome | null)[] = inputs.map(() => null);
      const proven = await provePrevious(tx, inputs, outcomes);

      const grantedTokenId = new Map<number, string>();
      const byToken = new Map<string, number[]>();
      inputs.forEach((inp, i) => {
        if (outcomes[i] || proven.has(i) || inp.enrollmentToken === undefined) return;
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

      const audits: Parameters<typeof appendAuditMany>[1] = [];
      const changed: string[] = [];

      // Same host, new credential: the agent proved it holds the current one.
      for (const [i, host] of proven) {
        const credential = newSecret("agt");
        const inp = inputs[i];
        await tx.host.update({
          where: { id: host.id },
          data: { credentialHash: sha256(credential), hostname: inp.hostname, machineId: inp.machineId, lastIp: inp.ip },
        });
        await tx.hostEvent.create({ data: { hostId: host.id, type: "enrolled", details: { rotated: true, ...(host.via !== host.id ? { mergedFrom: host.via } : {}) } } });
        await notify(tx, { type: "host.credential_rotated", hostId: host.id });
        changed.push(host.id);
        audits.push({
          actor: { type: "agent", id: host.id, name: inp.hostname, ip: inp.ip },
          action: "host.credential_rotated",
          target: { type: "host", id: host.id },
          details: { hostname: inp.hostname, machineId: inp.machineId, ...(host.via !== host.id ? { presentedHostId: host.via } : {}) },
        });
        outcomes[i] = { ok: true, response: { hostId: host.id, credential } };
      }

      const accepted = [...grantedTokenId.keys()].sort((a, b) => a - b);
      if (accepted.length > 0) {
        const credentials = accepted.map(() => newSecret("agt"));
        const hosts = await insertHosts(tx, accepted.map((i, k) => ({ ...inputs[i], credentialHash: sha256(credentials[k]), tokenId: grantedTokenId.get(i)! })));
        accepted.forEach((i, k) => {
          const h = hosts[k];
          changed.push(h.id);
          audits.push({
            actor: { type: "agent", id: h.id, name: inputs[i].hostname, ip: inputs[i].ip },
            action: "host.enrolled",
            target: { type: "host", id: h.id },
            details: {
              hostname: inputs[i].hostname,
              machineId: inputs[i].machineId,
              enrollmentTokenId: grantedTokenId.get(i),
              ...(h.duplicateOf ? { possibleDuplicateOf: h.duplicateOf } : {}),
            },
          });
          outcomes[i] = { ok: true, response: { hostId: h.id, credential: credentials[k] } };
        });
      }
      if (changed.length > 0) {
        await notify(tx, { type: "hosts.changed", ids: changed });
        await appendAuditMany(tx, audits);
      }
      return outcomes as Outcome[];
    },
    { maxWait: 30_000, timeout: 60_000 },
  );
}

/**
 * Checks the `previous` credentials of a batch (rows locked until commit). A valid one for an
 * active host (or for a duplicate an admin merged into an active host) proves that host; one for a
 * revoked or decommissioned host is refused; an invalid one is ignored when the request also
 * carries a token (it then enrolls as a new host), refused otherwise.
 */
async function provePrevious(tx: Tx, inputs: EnrollInput[], outcomes: (Outcome | null)[]): Promise<Map<number, ProvenHost>> {
  const proven = new Map<number, ProvenHost>();
  const ids = [...new Set(inputs.flatMap((i) => (i.previous ? [i.previous.hostId] : [])))];
  if (ids.length === 0) return proven;
  type Row = { id: string; hostname: string; status: string; credentialHash: string; mergedIntoId: string | null };
  const rows = await tx.$queryRaw<Row[]>`
    select id::text, hostname, status::text, "credentialHash", "mergedIntoId"::text from "Host"
    where id = any(${ids}::uuid[]) or id in (select "mergedIntoId" from "Host" where id = any(${ids}::uuid[]))
    order by id for update`;
  const byId = new Map(rows.map((r) => [r.id, r]));
  inputs.forEach((inp, i) => {
    if (!inp.previous) return;
    const presented = byId.get(inp.previous.hostId);
    // A merged duplicate's credential was handed to the host it was merged into.
    const host = presented?.mergedIntoId ? byId.get(presented.mergedIntoId) : presented;
    if (host && credentialMatches(inp.previous.credential, host.credentialHash)) {
      if (host.status === "active") proven.set(i, { id: host.id, hostname: host.hostname, via: inp.previous.hostId });
      else outcomes[i] = { ok: false, error: new EnrollmentRefusedError(`host ${host.hostname} is ${host.status}; an admin can restore it on the console`) };
    } else if (inp.enrollmentToken === undefined) {
      outcomes[i] = { ok: false, error: new EnrollmentRefusedError("the credential presented is not a host's current credential; enroll with an enrollment token") };
    }
  });
  return proven;
}

const MACHINE_LOCK = 4_242_200;

/**
 * Creates new hosts and their `enrolled` timeline entries. A host whose machine id an existing
 * (not decommissioned) host already reports is flagged as a possible duplicate of the oldest such
 * host that is not itself a duplicate. A per-machine-id lock makes concurrent batches (several
 * console processes) see each other's hosts.
 */
async function insertHosts(
  tx: Tx,
  rows: { machineId: string; hostname: string; credentialHash: string; ip: string | null; tokenId: string }[],
): Promise<{ id: string; duplicateOf: { id: string; hostname: string } | null }[]> {
  // In sorted order, so that two batches never wait for each other's locks in a cycle.
  await tx.$executeRaw`
    select pg_advisory_xact_lock(${MACHINE_LOCK}, hashtext(m))
    from (select distinct unnest(${rows.map((r) => r.machineId)}::text[]) as m order by 1) x`;
  const result = await tx.$queryRaw<{ id: string; credentialHash: string; duplicateOfId: string | null; duplicateOfHostname: string | null }[]>`
    with input as (
      select * from unnest(${rows.map((r) => r.machineId)}::text[], ${rows.map((r) => r.hostname)}::text[],
                           ${rows.map((r) => r.credentialHash)}::text[], ${rows.map((r) => r.ip)}::text[],
                           ${rows.map((r) => r.tokenId)}::uuid[])
        as i("machineId", hostname, "credentialHash", ip, "tokenId")),
    ins as (
      insert into "Host" (id, "machineId", hostname, "credentialHash", "lastIp", status, "enrolledAt", "enrollmentTokenId", "duplicateOfId")
      select gen_random_uuid(), i."machineId", i.hostname, i."credentialHash", i.ip, 'active', now(), i."tokenId",
        (select h.id from "Host" h where h."machineId" = i."machineId" and h.status <> 'decommissioned'
         order by (h."duplicateOfId" is not null), h."enrolledAt", h.id limit 1)
      from input i
      returning id, "credentialHash", "duplicateOfId"),
    ev as (
      insert into "HostEvent" ("hostId", type, details)
      select id, 'enrolled', case when "duplicateOfId" is null then '{}'::jsonb else jsonb_build_object('possibleDuplicateOf', "duplicateOfId") end from ins)
    select ins.id::text as id, ins."credentialHash", ins."duplicateOfId"::text as "duplicateOfId", d.hostname as "duplicateOfHostname"
    from ins left join "Host" d on d.id = ins."duplicateOfId"`;
  const byHash = new Map(result.map((r) => [r.credentialHash, r]));
  return rows.map((r) => {
    const h = byHash.get(r.credentialHash)!;
    return { id: h.id, duplicateOf: h.duplicateOfId ? { id: h.duplicateOfId, hostname: h.duplicateOfHostname ?? "" } : null };
  });
}
