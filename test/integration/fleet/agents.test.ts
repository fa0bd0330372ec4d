// Real agent processes (the bundled agent) against a real console: enrollment, inventory from a
// fake sysfs, reconnects, revocation.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Host, HostDetail } from "@/lib/api/schemas";
import { agentCredential, eventually, getJson, startAgentProcess, startFakeHostAgent, startTestConsole, type AgentProcess, type TestConsole } from "../../helpers/console";
import { makeFakeHost } from "../../helpers/fake-host";
import { agentAuth, agentSockets } from "../../helpers/sockets";

let c: TestConsole;
const agents: AgentProcess[] = [];
const sockets = agentSockets(() => c.url);
const hostByMachine = async (machineId: string) => {
  const { items } = await getJson<{ items: Host[] }>(c, `/api/v1/hosts?q=${machineId}`);
  return items.find((h) => h.machineId === machineId) ?? null;
};

beforeAll(async () => {
  c = await startTestConsole();
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await c?.stop();
});

describe("agent enrollment and inventory", () => {
  const machineId = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
  const fake = makeFakeHost({ machineId, kernelRelease: "6.1.0-53-cloud-amd64", livepatches: { livepatch_cve_2024_1086: { enabled: true } } });
  let agent: AgentProcess;

  it("enrolls with a token, keeps its credential private, and reports the real inventory", async () => {
    const token = await c.enrollmentToken({ maxUses: 1 });
    const started = await startFakeHostAgent(c, fake, machineId, agents, { token });
    agent = started.agent;
    const host = started.host;
    expect(host.kernelRelease).toBe("6.1.0-53-cloud-amd64");
    expect(host.distro).toEqual({ id: "debian", name: expect.stringContaining("Debian"), version: "12" });
    expect(host.bootId).toBe("5f2a1c3e-8b7d-4e9f-a0b1-c2d3e4f5a6b7");
    expect(host.memoryBytes).toBe(16318480 * 1024);
    expect(host.livepatches).toEqual([{ name: "livepatch_cve_2024_1086", enabled: true, transition: false }]);
    const cred = fs.readdirSync(agent.stateDir).map((f) => path.join(agent.stateDir, f)).find((f) => /cred/.test(f))!;
    expect(fs.statSync(cred).mode & 0o777).toBe(0o600);
    // The console keeps only a hash of the credential.
    const stored = JSON.parse(fs.readFileSync(cred, "utf8")) as { credential: string; consolePublicKey?: string };
    const secret = stored.credential;
    // The console's artifact-signing key, pinned at enrollment.
    expect(stored.consolePublicKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const rows = await c.db.query<{ credentialHash: string }>(`select "credentialHash" from "Host" where "machineId" = $1`, [machineId]);
    expect(rows[0].credentialHash).not.toContain(secret);
    expect(rows[0].credentialHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("reports livepatch changes read from sysfs and records them in the host's timeline", async () => {
    fake.setLivepatch("livepatch_cve_2024_1086", { enabled: false, transition: true });
    fake.setLivepatch("livepatch_cve_2025_0001", { enabled: true });
    const host = await eventually(async () => {
      const h = await hostByMachine(machineId);
      return h && h.livepatches.length === 2 ? h : null;
    }, { what: "livepatch change", timeoutMs: 30_000 });
    expect(host.livepatches).toContainEqual({ name: "livepatch_cve_2024_1086", enabled: false, transition: true });
    const detail = await getJson<HostDetail>(c, `/api/v1/hosts/${host.id}`);
    const types = detail.events.map((e) => e.type);
    expect(types).toContain("enrolled");
    expect(types).toContain("connected");
    expect(types).toContain("livepatches_changed");
  });

  it("a restarted agent reconnects with its stored credential and does not enroll again", async () => {
    await agent.stop();
    const host = await eventually(async () => {
      const h = await hostByMachine(machineId);
      return h && !h.online ? h : null;
    }, { what: "host offline after agent stop" });
    fake.setBootId("99999999-1111-4222-8333-444455556666");
    agent = startAgentProcess({ server: c.url, stateDir: agent.stateDir, backend: "livepatch", args: fake.args });
    agents.push(agent);
    await eventually(async () => (await hostByMachine(machineId))?.online, { what: "host online again", timeoutMs: 30_000 });
    const enrolled = await c.db.query(`select 1 from "AuditEvent" where action like 'host.%enrolled' and "targetId" = $1`, [host.id]);
    expect(enrolled).toHaveLength(1);
    const detail = await eventually(async () => {
      const d = await getJson<HostDetail>(c, `/api/v1/hosts/${host.id}`);
      return d.events.some((e) => e.type === "rebooted") ? d : null;
    }, { what: "rebooted event" });
    expect(detail.bootId).toBe("99999999-1111-4222-8333-444455556666");
  });

  it("a used-up, revoked or unknown enrollment token is refused with a clear message", async () => {
    const r = await fetch(`${c.url}/api/v1/agent/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ enrollmentToken: "spl_enr_nope_nope_nope", hostname: "x", machineId: "y" }),
    });
    expect(r.status).toBe(403);
    expect((await r.json()).error.message).toMatch(/not known/);
    const t = await c.enrollmentToken({ maxUses: 1 });
    const enroll = (m: string) =>
      fetch(`${c.url}/api/v1/agent/enroll`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ enrollmentToken: t, hostname: m, machineId: m }) });
    // Two at once: the use count must not be exceeded by a race.
    const [a, b] = await Promise.all([enroll("m-one"), enroll("m-two")]);
    expect([a.status, b.status].sort()).toEqual([200, 403]);
    const refused = [a, b].find((x) => x.status === 403)!;
    expect((await refused.json()).error.message).toMatch(/no uses left/);
  });
});

describe("revocation", () => {
  it("disconnects the agent at once, keeps its credential aside, and keeps it out: a new token does not bring it back", async () => {
    const fake = makeFakeHost({ machineId: "feedfacefeedfacefeedfacefeedface" });
    const { agent, host } = await startFakeHostAgent(c, fake, "feedfacefeedfacefeedfacefeedface", agents, { token: await c.enrollmentToken() });
    const credFile = path.join(agent.stateDir, "credential.json");
    const cred = agentCredential(agent);

    const started = Date.now();
    const r = await c.api(`/api/v1/hosts/${host.id}/revoke`, { method: "POST", json: { reason: "stolen laptop" }, headers: { origin: c.url } });
    expect(r.status).toBe(200);
    expect(await agent.exited()).toBe(3);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(fs.existsSync(credFile)).toBe(false);
    expect(fs.readdirSync(agent.stateDir).filter((f) => f.startsWith("credential.json.refused-"))).toHaveLength(1);
    const after = await getJson<HostDetail>(c, `/api/v1/hosts/${host.id}`);
    expect(after.status).toBe("revoked");
    expect(after.online).toBe(false);

    // The old credential no longer opens a connection.
    const err = await sockets.outcome(agentAuth(cred));
    expect(err).toBe("host revoked");

    // A new token does not bring it back: the agent presents its kept credential, the host is
    // revoked, so it is refused (only an admin's restore undoes a revocation: see enroll.test.ts).
    const again = startAgentProcess({ server: c.url, enrollToken: await c.enrollmentToken(), stateDir: agent.stateDir, backend: "livepatch", args: fake.args });
    agents.push(again);
    expect(await again.exited()).toBe(1);
    expect((await getJson<HostDetail>(c, `/api/v1/hosts/${host.id}`)).status).toBe("revoked");
  });
});

describe("console restart", () => {
  it("agents reconnect by themselves after the console is killed and started again", async () => {
    const fake = makeFakeHost({ machineId: "0123456789abcdef0123456789abcdef" });
    const { agent, host } = await startFakeHostAgent(c, fake, "0123456789abcdef0123456789abcdef", agents, { token: await c.enrollmentToken() });
    const before = host.connectedAt;
    await c.kill();
    await c.restart();
    const again = await eventually(async () => {
      const h = await hostByMachine("0123456789abcdef0123456789abcdef");
      return h?.online && h.connectedAt !== before ? h : null;
    }, { what: "reconnection after restart", timeoutMs: 60_000 });
    expect(again.id).toBe(host.id);
    expect(agent.proc.exitCode).toBeNull();
  });
});
