// Enrollment never hands an existing host's identity to a caller because it knows the machine id
// (every viewer sees machine ids): issue 9, item 1. Real console, real agent processes on fake
// sysfs trees, a hostile caller with a valid enrollment token beside them. Also: a batch of
// enrollments isolates a request the database refuses (item 2).
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Ack, EnrollResponse } from "@/agent/protocol";
import type { Host, HostDetail } from "@/lib/api/schemas";
import { agentCredential, eventually, startAgentProcess, startFakeHostAgent, startTestConsole, type AgentProcess, type TestConsole } from "../../helpers/console";
import { makeFakeHost } from "../../helpers/fake-host";
import { agentAuth, agentSockets } from "../../helpers/sockets";

let c: TestConsole;
const agents: AgentProcess[] = [];
const sockets = agentSockets(() => c.url);

const getJson = async <T>(p: string, cookie?: string): Promise<T> => {
  const r = await c.api(p, cookie ? { cookie } : {});
  if (!r.ok) throw new Error(`${p}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
};
const post = (p: string, json: unknown, cookie?: string) => c.api(p, { method: "POST", json, headers: { origin: c.url }, ...(cookie ? { cookie } : {}) });
const enrollRaw = (body: Record<string, unknown>) =>
  fetch(`${c.url}/api/v1/agent/enroll`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const hostRow = async (id: string) =>
  (await c.db.query<{ credentialHash: string; status: string; online: boolean; connectedAt: Date | null; livepatches: unknown; machineId: string; hostname: string }>(
    `select "credentialHash", status::text, online, "connectedAt", livepatches, "machineId", hostname from "Host" where id = $1`,
    [id],
  ))[0];
const keptAside = (a: AgentProcess) => fs.readdirSync(a.stateDir).filter((n) => n.startsWith("credential.json.refused-"));

async function operatorCookie(role: "operator" | "viewer"): Promise<string> {
  const username = `enroll-${role}`;
  const password = "Correct-Horse-Battery-Staple-42";
  const r = await post("/api/v1/operators", { username, password, role });
  if (r.status !== 200 && r.status !== 201) throw new Error(`create ${role}: ${r.status} ${await r.text()}`);
  return c.login(username, password);
}

beforeAll(async () => {
  c = await startTestConsole();
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await c?.stop();
});

describe("re-enrollment with a known machine id", () => {
  it("a hostile caller with a valid token and the victim's machine id gets a NEW host flagged as a possible duplicate; the victim's identity, connection and livepatches are untouched", async () => {
    const victimMachine = "11111111111111111111111111111111";
    const victimFake = makeFakeHost({ machineId: victimMachine, hostname: "victim-01", livepatches: { livepatch_cve_2024_1086: { enabled: true } } });
    const honestFakes = ["22222222222222222222222222222222", "33333333333333333333333333333333"].map((m, i) => ({ m, fake: makeFakeHost({ machineId: m, hostname: `honest-0${i}` }) }));
    const token = await c.enrollmentToken({ maxUses: 10 });
    const [victim, ...honest] = await Promise.all([startFakeHostAgent(c, victimFake, victimMachine, agents, { token }), ...honestFakes.map((h) => startFakeHostAgent(c, h.fake, h.m, agents, { token }))]);
    const victimCred = agentCredential(victim.agent);
    const before = await hostRow(victim.host.id);
    const honestBefore = await Promise.all(honest.map((h) => hostRow(h.host.id)));

    // The attack: machine ids are shown to every viewer; any valid enrollment token will do.
    const r = await enrollRaw({ enrollmentToken: token, hostname: "victim-01", machineId: victimMachine });
    expect(r.status).toBe(200);
    const hostile = (await r.json()) as EnrollResponse;
    expect(hostile.hostId).not.toBe(victim.host.id);
    // The hostile host reports whatever it likes, for itself only.
    const s = await sockets.connect(agentAuth(hostile));
    const ack = (await s.timeout(5000).emitWithAck("inventory", {
      hostname: "victim-01", machineId: victimMachine, bootId: "b", kernelRelease: "6.1.0-50-amd64", kernelVersion: "#1", distro: { id: "debian", name: "Debian GNU/Linux", version: "12" },
      arch: "x86_64", uptimeSec: 1, cpuCount: 1, memoryBytes: 1, livepatches: [], agentVersion: "evil",
    })) as Ack;
    expect(ack.ok).toBe(true);

    const flagged = await getJson<HostDetail>(`/api/v1/hosts/${hostile.hostId}`);
    expect(flagged.duplicateOf).toEqual({ id: victim.host.id, hostname: "victim-01", status: "active" });
    expect(flagged.events.find((e) => e.type === "enrolled")?.details).toEqual({ possibleDuplicateOf: victim.host.id });
    const list = await getJson<{ items: Host[] }>(`/api/v1/hosts?q=${victimMachine}`);
    expect(list.items.map((h) => [h.id, h.duplicateOf?.id ?? null]).sort()).toEqual([[hostile.hostId, victim.host.id], [victim.host.id, null]].sort());
    const audit = await c.db.query<{ details: { possibleDuplicateOf?: { id: string } } }>(`select details from "AuditEvent" where action = 'host.enrolled' and "targetId" = $1`, [hostile.hostId]);
    expect(audit[0].details.possibleDuplicateOf?.id).toBe(victim.host.id);

    // The victim: same credential, same connection, still reporting.
    await new Promise((res) => setTimeout(res, 1500));
    const after = await hostRow(victim.host.id);
    expect(after.credentialHash).toBe(before.credentialHash);
    expect(after.status).toBe("active");
    expect(after.online).toBe(true);
    expect(after.connectedAt?.getTime()).toBe(before.connectedAt?.getTime());
    expect(after.livepatches).toEqual([{ name: "livepatch_cve_2024_1086", enabled: true, transition: false }]);
    expect(victim.agent.proc.exitCode).toBeNull();
    expect(agentCredential(victim.agent)).toEqual(victimCred);
    victimFake.setLivepatch("livepatch_cve_2025_0002", { enabled: true });
    await eventually(async () => ((await hostRow(victim.host.id)).livepatches as unknown[]).length === 2, { what: "the victim keeps reporting", timeoutMs: 30_000 });
    expect(await sockets.outcome(agentAuth(victimCred))).toBe("connected");
    for (const [i, h] of honest.entries()) {
      const now = await hostRow(h.host.id);
      expect(now.credentialHash).toBe(honestBefore[i].credentialHash);
      expect(now.online).toBe(true);
      expect(h.agent.proc.exitCode).toBeNull();
    }
  }, 180_000);

  it("an agent reinstalled with its state kept proves itself with its credential: same host, credential rotated, no token needed", async () => {
    const m = "44444444444444444444444444444444";
    const fake = makeFakeHost({ machineId: m, hostname: "keeper-01" });
    const { agent, host } = await startFakeHostAgent(c, fake, m, agents, { token: await c.enrollmentToken({ maxUses: 1 }) });
    const cred = agentCredential(agent);
    await agent.stop();
    const r = await enrollRaw({ hostname: "keeper-01", machineId: m, previous: cred });
    expect(r.status).toBe(200);
    const rotated = (await r.json()) as EnrollResponse;
    expect(rotated.hostId).toBe(host.id);
    expect(rotated.credential).not.toBe(cred.credential);
    expect(await sockets.outcome(agentAuth(cred))).toBe("invalid credential");
    expect(await sockets.outcome(agentAuth(rotated))).toBe("connected");
    // A wrong credential without a token proves nothing.
    const wrong = await enrollRaw({ hostname: "keeper-01", machineId: m, previous: { hostId: host.id, credential: "spl_agt_" + "x".repeat(43) } });
    expect(wrong.status).toBe(403);
    expect(((await wrong.json()) as { error: { message: string } }).error.message).toMatch(/not a host's current credential/);
  }, 120_000);

  it("merging a duplicate (admin only, audited) hands the original host to the duplicate's agent, which comes back as the original", async () => {
    const m = "55555555555555555555555555555555";
    const fake = makeFakeHost({ machineId: m, hostname: "reimaged-01" });
    const original = await startFakeHostAgent(c, fake, m, agents, { token: await c.enrollmentToken({ maxUses: 1 }) });
    await original.agent.stop(); // the machine is reimaged: its state is gone
    const reinstalled = await startFakeHostAgent(c, fake, m, agents, { token: await c.enrollmentToken({ maxUses: 1 }) });
    expect(reinstalled.host.id).not.toBe(original.host.id);
    expect(reinstalled.host.duplicateOf?.id).toBe(original.host.id);

    const operator = await operatorCookie("operator");
    expect((await post(`/api/v1/hosts/${reinstalled.host.id}/merge`, {}, operator)).status).toBe(403);
    const r = await post(`/api/v1/hosts/${reinstalled.host.id}/merge`, { reason: "reimaged, OPS-7" });
    expect(r.status).toBe(200);
    expect(((await r.json()) as Host).id).toBe(original.host.id);
    // The duplicate's agent is told to stop using the duplicate's id and keeps its credential aside.
    expect(await reinstalled.agent.exited()).toBe(3);
    expect(keptAside(reinstalled.agent)).toHaveLength(1);
    const dup = await getJson<HostDetail>(`/api/v1/hosts/${reinstalled.host.id}`);
    expect(dup.status).toBe("decommissioned");
    expect(dup.mergedInto).toEqual({ id: original.host.id, hostname: "reimaged-01" });
    const audit = await c.db.query<{ actorName: string; details: { duplicate: { id: string }; reason: string } }>(
      `select "actorName", details from "AuditEvent" where action = 'host.merged' and "targetId" = $1`,
      [original.host.id],
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorName: "admin", details: { duplicate: { id: reinstalled.host.id }, reason: "reimaged, OPS-7" } });

    // systemd restarts it (its token is spent): it proves itself with the kept credential.
    const back = startAgentProcess({ server: c.url, stateDir: reinstalled.agent.stateDir, backend: "livepatch", args: fake.args });
    agents.push(back);
    await eventually(async () => fs.existsSync(path.join(back.stateDir, "credential.json")) && agentCredential(back).hostId === original.host.id, { what: "agent back as the original host", timeoutMs: 60_000 });
    await eventually(async () => (await hostRow(original.host.id)).online, { what: "original host online", timeoutMs: 30_000 });
  }, 180_000);
});

describe("revoked hosts", () => {
  it("stay revoked whatever enrolls with their machine id, until an admin restores them (audited); the real agent then gets back in with the credential it kept", async () => {
    const m = "66666666666666666666666666666666";
    const fake = makeFakeHost({ machineId: m, hostname: "revoked-01" });
    const { agent, host } = await startFakeHostAgent(c, fake, m, agents, { token: await c.enrollmentToken({ maxUses: 1 }) });
    const cred = agentCredential(agent);
    expect((await post(`/api/v1/hosts/${host.id}/revoke`, { reason: "suspicious" })).status).toBe(200);
    expect(await agent.exited()).toBe(3);
    expect(fs.existsSync(path.join(agent.stateDir, "credential.json"))).toBe(false);
    expect(keptAside(agent)).toHaveLength(1);
    expect(JSON.parse(fs.readFileSync(path.join(agent.stateDir, keptAside(agent)[0]), "utf8")).credential).toBe(cred.credential);

    // A token and the machine id: a new host, flagged; the revoked one stays revoked.
    const hostile = await enrollRaw({ enrollmentToken: await c.enrollmentToken({ maxUses: 1 }), hostname: "revoked-01", machineId: m });
    expect(hostile.status).toBe(200);
    const hostileHost = (await hostile.json()) as EnrollResponse;
    expect(hostileHost.hostId).not.toBe(host.id);
    expect((await getJson<HostDetail>(`/api/v1/hosts/${hostileHost.hostId}`)).duplicateOf).toEqual({ id: host.id, hostname: "revoked-01", status: "revoked" });
    // Its own (kept) credential with a token: refused, still revoked.
    const proof = await enrollRaw({ enrollmentToken: await c.enrollmentToken({ maxUses: 1 }), hostname: "revoked-01", machineId: m, previous: cred });
    expect(proof.status).toBe(403);
    expect(((await proof.json()) as { error: { message: string } }).error.message).toMatch(/revoked; an admin can restore it/);
    // Merging the hostile duplicate into it would be a restore by the back door.
    const merge = await post(`/api/v1/hosts/${hostileHost.hostId}/merge`, {});
    expect(merge.status).toBe(409);
    expect((await hostRow(host.id)).status).toBe("revoked");
    expect(await sockets.outcome(agentAuth(cred))).toBe("host revoked");

    // The restarted agent is refused while revoked (exit 1), without touching the host.
    const refused = startAgentProcess({ server: c.url, stateDir: agent.stateDir, backend: "livepatch", args: fake.args });
    agents.push(refused);
    expect(await refused.exited()).toBe(1);
    expect(refused.output()).toMatch(/revoked/);
    expect((await hostRow(host.id)).status).toBe("revoked");

    // Restore: admin only, audited.
    const operator = await operatorCookie("viewer");
    expect((await post(`/api/v1/hosts/${host.id}/restore`, {}, operator)).status).toBe(403);
    const r = await post(`/api/v1/hosts/${host.id}/restore`, { reason: "false alarm" });
    expect(r.status).toBe(200);
    expect(((await r.json()) as Host).status).toBe("active");
    const audit = await c.db.query<{ actorName: string; details: { reason: string; credentialKept: boolean } }>(
      `select "actorName", details from "AuditEvent" where action = 'host.restored' and "targetId" = $1`,
      [host.id],
    );
    expect(audit).toEqual([{ actorName: "admin", details: expect.objectContaining({ reason: "false alarm", credentialKept: true }) }]);
    expect((await post(`/api/v1/hosts/${host.id}/restore`, {})).status).toBe(409);

    // systemd starts it again: it presents the kept credential and is the same host again.
    const back = startAgentProcess({ server: c.url, stateDir: agent.stateDir, backend: "livepatch", args: fake.args });
    agents.push(back);
    await eventually(async () => (await hostRow(host.id)).online, { what: "restored host online", timeoutMs: 90_000 });
    expect(agentCredential(back).hostId).toBe(host.id);
    expect(agentCredential(back).credential).not.toBe(cred.credential);
  }, 240_000);
});

describe("enrollment batches", () => {
  it("one request the database refuses does not fail the others enrolled at the same moment: three 200s, one 400, nothing of it written", async () => {
    // The lowest layer: the database itself refuses one row (as it refuses a NUL in text), via a
    // trigger installed for this test only. `slow-enroll` holds the batcher for a moment, so the
    // four requests queue up and are enrolled in one batch.
    await c.db.query(`
      create function test_refuse_host() returns trigger language plpgsql as $$
      begin
        if new.hostname = 'slow-enroll' then perform pg_sleep(1); end if;
        if new.hostname = 'poison-host' then raise exception 'test: this row cannot be stored' using errcode = '22023'; end if;
        return new;
      end $$;
      create trigger test_refuse_host before insert on "Host" for each row execute function test_refuse_host();`);
    try {
      const token = await c.enrollmentToken({ maxUses: 10 });
      const slow = enrollRaw({ enrollmentToken: token, hostname: "slow-enroll", machineId: "batch-slow" });
      await new Promise((r) => setTimeout(r, 300));
      const names = ["batch-honest-1", "poison-host", "batch-honest-2", "batch-honest-3"];
      const answers = await Promise.all(names.map((n) => enrollRaw({ enrollmentToken: token, hostname: n, machineId: `m-${n}` })));
      expect((await slow).status).toBe(200);
      expect(answers.map((a) => a.status)).toEqual([200, 400, 200, 200]);
      const bad = (await answers[1].json()) as { error: { code: string; message: string } };
      expect(bad.error.code).toBe("enrollment_unstorable");
      expect(bad.error.message).toMatch(/cannot be stored/);
      const rows = await c.db.query<{ hostname: string }>(`select hostname from "Host" where hostname like 'batch-%' or hostname = 'poison-host' order by hostname`);
      expect(rows.map((r) => r.hostname)).toEqual(["batch-honest-1", "batch-honest-2", "batch-honest-3"]);
      const uses = await c.db.query<{ uses: number }>(`select uses from "EnrollmentToken" where id = (select "enrollmentTokenId" from "Host" where hostname = 'batch-honest-1')`);
      expect(uses[0].uses).toBe(4); // slow + three honest; the refused one used nothing
      const audited = await c.db.query(`select 1 from "AuditEvent" where action = 'host.enrolled' and details->>'hostname' = 'poison-host'`);
      expect(audited).toHaveLength(0);
    } finally {
      await c.db.query(`drop trigger test_refuse_host on "Host"; drop function test_refuse_host();`);
    }
  }, 60_000);

  it("a NUL in a hostname beside three honest enrollments: three 200s and one 400 naming the hostname, never a 500", async () => {
    // Whether the protocol's edge refuses it or the batch isolates it, the answer is the same.
    const token = await c.enrollmentToken({ maxUses: 10 });
    const names = ["nul-honest-1", "nul-\u0000-host", "nul-honest-2", "nul-honest-3"];
    const answers = await Promise.all(names.map((n, i) => enrollRaw({ enrollmentToken: token, hostname: n, machineId: `m-nul-${i}` })));
    expect(answers.map((a) => a.status)).toEqual([200, 400, 200, 200]);
    expect(((await answers[1].json()) as { error: { message: string } }).error.message).toMatch(/hostname/);
    const rows = await c.db.query<{ hostname: string }>(`select hostname from "Host" where "machineId" like 'm-nul-%' order by hostname`);
    expect(rows.map((r) => r.hostname)).toEqual(["nul-honest-1", "nul-honest-2", "nul-honest-3"]);
  }, 60_000);
});
