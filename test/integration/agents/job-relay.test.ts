// The job relay's batched write on a real Postgres: an update the database refuses (here a CHECK
// constraint stands in for any future cause a zod schema does not catch) costs only its own
// host; the other updates of the same 100 ms batch are stored, and only the bad one is refused.
import crypto from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { JobUpdate } from "@/agent/protocol";
import { createTestDatabase } from "../../helpers/db";

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let JobRelay: typeof import("@/lib/agents/job-relay").JobRelay;
let RefusedMessage: typeof import("@/lib/agents/validate").RefusedMessage;
let disconnect: () => Promise<void>;

const HOSTS = 5;
let hosts: string[] = [];
let jobs: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  // The lib's Prisma client reads DATABASE_URL when first used.
  process.env.DATABASE_URL = db.url;
  ({ JobRelay } = await import("@/lib/agents/job-relay"));
  ({ RefusedMessage } = await import("@/lib/agents/validate"));
  const client = await import("@/lib/db/client");
  disconnect = client.disconnectPrisma;
  await db.query(`alter table "RolloutHost" add constraint test_no_poison check (error is distinct from 'poison')`);
});

afterAll(async () => {
  await disconnect?.();
  await db?.close();
});

beforeEach(async () => {
  hosts = Array.from({ length: HOSTS }, () => crypto.randomUUID());
  jobs = Array.from({ length: HOSTS }, () => crypto.randomUUID());
  const patchId = crypto.randomUUID();
  const rolloutId = crypto.randomUUID();
  for (const [i, id] of hosts.entries()) {
    await db.query(`insert into "Host" (id, "machineId", hostname, "credentialHash", "kernelRelease") values ($1, $2, $3, $4, '6.1.0-50-amd64')`, [
      id, `m-${id}`, `relay-${i}`, crypto.randomBytes(32).toString("hex"),
    ]);
  }
  await db.query(`insert into "Patch" (id, title, severity, diff, "diffSha256", verdict, analysis, "createdByName") values ($1, 'p', 'high', 'd', $2, 'hot_patchable', '{}', 'test')`, [
    patchId, crypto.randomBytes(32).toString("hex"),
  ]);
  await db.query(`insert into "Rollout" (id, "patchId", "groupName", strategy, "waveCount", "hostCount", "createdByName") values ($1, $2, 'g', '{}', 1, $3, 'test')`, [
    rolloutId, patchId, HOSTS,
  ]);
  for (const [i, hostId] of hosts.entries()) {
    await db.query(`insert into "RolloutHost" (id, "rolloutId", "hostId", hostname, "kernelRelease", wave, state, "dispatchedAt", "deadlineAt") values ($1, $2, $3, $4, '6.1.0-50-amd64', 0, 'dispatched', now(), now() + interval '1 hour')`, [
      jobs[i], rolloutId, hostId, `relay-${i}`,
    ]);
  }
});

const stateOf = async (jobId: string) => (await db.query<{ state: string; error: string | null }>(`select state::text, error from "RolloutHost" where id = $1`, [jobId]))[0];
const succeeded = (i: number): JobUpdate => ({ jobId: jobs[i], phase: "succeeded", log: [`host ${i} done`] });

describe("job relay batches", () => {
  it("stores every good update of a batch when the database refuses one row, and refuses only that one", async () => {
    const relay = new JobRelay(new Map());
    const POISONED = 2;
    // Recorded in one tick: one batch, one statement.
    const results = await Promise.allSettled(
      hosts.map((hostId, i) => relay.record(hostId, i === POISONED ? { jobId: jobs[i], phase: "failed", error: "poison", log: [] } : succeeded(i))),
    );
    expect(results.map((r) => r.status)).toEqual(hosts.map((_, i) => (i === POISONED ? "rejected" : "fulfilled")));
    const refusal = (results[POISONED] as PromiseRejectedResult).reason as Error;
    expect(refusal).toBeInstanceOf(RefusedMessage);
    expect(refusal.message).toMatch(/cannot store this job update \(new row .* violates check constraint "test_no_poison" \(SQLSTATE 23514\)\)/);
    for (const [i, jobId] of jobs.entries()) expect((await stateOf(jobId)).state).toBe(i === POISONED ? "dispatched" : "succeeded");
    // The results' timeline entries were written with them.
    const events = await db.query<{ n: number }>(`select count(*)::int as n from "HostEvent" where type = 'rollout_result' and "hostId" = any($1::uuid[])`, [hosts]);
    expect(events[0].n).toBe(HOSTS - 1);
    await relay.close();
  });

  it("refuses an update its schema refuses on its own, before it can fail a batch", async () => {
    const relay = new JobRelay(new Map());
    // E.g. the console's own record of an agent refusing a job, carrying the agent's words.
    const results = await Promise.allSettled([
      relay.record(hosts[0], succeeded(0)),
      relay.record(hosts[1], { jobId: jobs[1], phase: "failed", error: "x".repeat(5000), log: [] }),
      relay.record(hosts[2], succeeded(2)),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(((results[1] as PromiseRejectedResult).reason as Error).message).toMatch(/invalid job_update[\s\S]*→ at error/);
    expect((await stateOf(jobs[0])).state).toBe("succeeded");
    expect((await stateOf(jobs[2])).state).toBe("succeeded");
    await relay.close();
  });

  it("does not let an update naming another host's job shadow that host's own update in the batch", async () => {
    const relay = new JobRelay(new Map());
    // Host 1 claims host 0's job (refused by the host check) in the same batch as host 0's result.
    const results = await Promise.allSettled([
      relay.record(hosts[0], succeeded(0)),
      relay.record(hosts[1], { jobId: jobs[0], phase: "failed", error: "not yours", log: [] }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    expect(await stateOf(jobs[0])).toEqual({ state: "succeeded", error: null });
    await relay.close();
  });
});
