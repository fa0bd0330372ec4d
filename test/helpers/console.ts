// Starts a real console (server.ts: Next production build, socket.io gateway, migrations) as a
// child process on a fresh database, and real agent processes (the bundled agent) against it.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { EnrollResponse } from "@/agent/protocol";
import { Logger } from "@/agent/log";
import { startFleet, type Fleet, type FleetOptions } from "@/agent/sim/fleet";
import type { HostDetail } from "@/lib/api/schemas";
import { expect } from "vitest";
import { createTestDatabase } from "./db";
import type { FakeHost } from "./fake-host";
import { eventually } from "./wait";
export { eventually };

export const ROOT = path.resolve(import.meta.dirname, "../..");

export interface TestConsole {
  url: string;
  dataDir: string;
  port: number;
  adminPassword: string;
  db: Awaited<ReturnType<typeof createTestDatabase>>;
  proc: ChildProcess;
  output(): string;
  /** fetch with the admin's session cookie (or `cookie: null` for none). */
  api(p: string, init?: RequestInit & { cookie?: string | null; json?: unknown }): Promise<Response>;
  login(username: string, password: string): Promise<string>;
  enrollmentToken(opts?: { maxUses?: number; expiresInHours?: number }): Promise<string>;
  /** Enrolls a host over HTTP as an agent would, with a fresh token; returns the agent's share. */
  enroll(hostname: string, machineId: string): Promise<EnrollResponse>;
  /** Stops the console (SIGTERM) and waits. */
  stop(): Promise<void>;
  /** Kills the console without a goodbye (SIGKILL). */
  kill(): Promise<void>;
  /** Starts the console again on the same database and port. */
  restart(): Promise<void>;
}

async function waitReady(proc: ChildProcess, log: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`console did not start in ${timeoutMs} ms:\n${log.join("")}`)), timeoutMs);
    const onData = (d: Buffer) => {
      const m = d.toString().match(/SPLICER_READY (\S+)/);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    };
    proc.stdout!.on("data", onData);
    proc.once("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`console exited with ${code} before it was ready:\n${log.join("")}`));
    });
  });
}

export async function startTestConsole(
  opts: { env?: Record<string, string>; port?: number; /** A second console process on the same database. */ sharing?: TestConsole } = {},
): Promise<TestConsole> {
  const db = opts.sharing?.db ?? (await createTestDatabase());
  const adminPassword = opts.sharing?.adminPassword ?? `pw-${crypto.randomBytes(9).toString("base64url")}`;
  // Signing key and artifacts: shared by consoles on one database, as in a real deployment.
  const dataDir = opts.sharing?.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "splicer-console-data-"));
  let port = opts.port ?? 0;
  let proc!: ChildProcess;
  const log: string[] = [];
  const launch = async () => {
    // node itself (not the tsx wrapper, which forks) so that SIGKILL reaches the console.
    proc = spawn(process.execPath, ["--import", "tsx", "--import", "./scripts/hooks/register.mjs", "scripts/serve.ts"], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        PORT: String(port),
        HOST: "127.0.0.1",
        SPLICER_ADMIN_PASSWORD: adminPassword,
        SPLICER_DATA_DIR: dataDir,
        SPLICER_SIMULATE_BUILD_MS: "300",
        SPLICER_SKIP_BUILD_CHECK: "1",
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
        NEXT_TELEMETRY_DISABLED: "1",
        ...opts.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    proc.stdout!.on("data", (d) => log.push(d.toString()));
    proc.stderr!.on("data", (d) => log.push(d.toString()));
    const url = await waitReady(proc, log, 90_000);
    port = Number(new URL(url).port);
  };
  await launch();
  const base = () => `http://127.0.0.1:${port}`;

  const login = async (username: string, password: string) => {
    const r = await fetch(`${base()}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }) });
    if (!r.ok) throw new Error(`login ${username} failed: ${r.status} ${await r.text()}`);
    const cookie = r.headers.getSetCookie().find((c) => c.startsWith("splicer_session="));
    return cookie!.split(";")[0];
  };
  let adminCookie: string | null = null;
  const api: TestConsole["api"] = async (p, init = {}) => {
    const { cookie, json, ...rest } = init;
    const headers = new Headers(rest.headers);
    const c = cookie === undefined ? (adminCookie ??= await login("admin", adminPassword)) : cookie;
    if (c) headers.set("cookie", c);
    if (json !== undefined) headers.set("content-type", "application/json");
    return fetch(`${base()}${p}`, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body });
  };
  const enrollmentToken = async (o: { maxUses?: number; expiresInHours?: number } = {}) => {
    const r = await api("/api/v1/enrollment-tokens", { method: "POST", json: { maxUses: o.maxUses ?? 100, expiresInHours: o.expiresInHours ?? 1 } });
    if (!r.ok) throw new Error(`token: ${r.status} ${await r.text()}`);
    return ((await r.json()) as { token: string }).token;
  };
  const exited = () => new Promise<void>((r) => (proc.exitCode !== null || proc.signalCode !== null ? r() : proc.once("exit", () => r())));

  return {
    get url() {
      return base();
    },
    get port() {
      return port;
    },
    adminPassword,
    dataDir,
    db,
    get proc() {
      return proc;
    },
    output: () => log.join(""),
    api,
    login,
    enrollmentToken: (o = {}) => enrollmentToken(o),
    async enroll(hostname, machineId) {
      const token = await enrollmentToken();
      const r = await fetch(`${base()}/api/v1/agent/enroll`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ enrollmentToken: token, hostname, machineId }),
      });
      if (!r.ok) throw new Error(`enroll ${hostname}: ${r.status} ${await r.text()}`);
      return (await r.json()) as EnrollResponse;
    },
    async stop() {
      proc.kill("SIGTERM");
      await exited();
      if (!opts.sharing) await db.close();
    },
    async kill() {
      proc.kill("SIGKILL");
      await exited();
    },
    async restart() {
      await launch();
    },
  };
}

export interface AgentProcess {
  proc: ChildProcess;
  stateDir: string;
  output(): string;
  exited(): Promise<number | null>;
  stop(): Promise<void>;
}

/** Runs the bundled agent (agent/dist/splicer-agent.js) as its own process. */
export function startAgentProcess(opts: {
  server: string;
  enrollToken?: string;
  stateDir?: string;
  backend?: "simulate" | "livepatch";
  args?: string[];
  env?: Record<string, string>;
}): AgentProcess {
  const stateDir = opts.stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "splicer-agent-"));
  const args = [path.join(ROOT, "agent/dist/splicer-agent.js"), "--server", opts.server, "--state-dir", stateDir, "--backend", opts.backend ?? "simulate", ...(opts.enrollToken ? ["--enroll-token", opts.enrollToken] : []), ...(opts.args ?? [])];
  const proc = spawn(process.execPath, args, { env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
  const log: string[] = [];
  proc.stdout!.on("data", (d) => log.push(d.toString()));
  proc.stderr!.on("data", (d) => log.push(d.toString()));
  const exit = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  return {
    proc,
    stateDir,
    output: () => log.join(""),
    exited: () => exit,
    async stop() {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      await exit;
    },
  };
}

/**
 * Runs the bundled agent (livepatch backend) on `fake`, adds it to `agents` for the caller's
 * afterAll, and resolves once console `c` shows the host of the credential it stored online with
 * `machineId` and an inventory. `server`: the console it connects to, when not `c` itself.
 */
export async function startFakeHostAgent(
  c: TestConsole,
  fake: FakeHost,
  machineId: string,
  agents: AgentProcess[],
  opts: { token?: string; stateDir?: string; server?: string; timeoutMs?: number } = {},
): Promise<{ agent: AgentProcess; host: HostDetail }> {
  const agent = startAgentProcess({ server: opts.server ?? c.url, enrollToken: opts.token, stateDir: opts.stateDir, backend: "livepatch", args: fake.args });
  agents.push(agent);
  const host = await eventually(
    async () => {
      const h = await getJson<HostDetail>(c, `/api/v1/hosts/${agentCredential(agent).hostId}`);
      return h.online && h.machineId === machineId && h.kernelRelease ? h : null;
    },
    { what: `the agent of ${machineId} online`, timeoutMs: opts.timeoutMs ?? 60_000 },
  );
  return { agent, host };
}

/** The credential an agent process stored (throws until it has enrolled). */
export const agentCredential = (a: AgentProcess) => JSON.parse(fs.readFileSync(path.join(a.stateDir, "credential.json"), "utf8")) as { hostId: string; credential: string };

/** N simulated agents (the real agent code, simulate backend) in this process, all connected. */
export async function startSimulatedFleet(
  c: TestConsole,
  opts: { agents: number; seed: string } & Partial<Pick<FleetOptions, "applyMs" | "failureRate" | "random" | "jobResendMs" | "heartbeatSec" | "inventoryIntervalMs">>,
): Promise<Fleet> {
  const { agents: _a, seed: _s, ...passThrough } = opts;
  const fleet = await startFleet({
    ...passThrough,
    server: c.url,
    enrollToken: await c.enrollmentToken({ maxUses: opts.agents }),
    agents: opts.agents,
    stateDir: fs.mkdtempSync(path.join(os.tmpdir(), `splicer-fleet-${opts.seed}-`)),
    seed: opts.seed,
    progress: false,
    log: new Logger("silent"),
  });
  await fleet.waitConnected(opts.agents, 60_000);
  // Connected is not yet known: wait until the console has stored every agent's inventory, so a
  // test that reads the hosts (or plans a rollout) right away sees their kernel releases.
  const hostnames = fleet.agents.map((a) => a.profile.hostname);
  await eventually(async () => {
    const rows = await c.db.query<{ n: number }>(`select count(*)::int as n from "Host" where hostname = any($1) and "kernelRelease" <> ''`, [hostnames]);
    return rows[0].n === hostnames.length;
  }, { what: `the inventory of all ${hostnames.length} simulated agents`, timeoutMs: 60_000 });
  return fleet;
}

/** The response's JSON body, after expecting `status` (the body is the failure message otherwise). */
export async function expectJson<T>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

/** GET a console API path as admin; throws with the status and body unless it succeeded. */
export async function getJson<T>(c: TestConsole, p: string): Promise<T> {
  const r = await c.api(p);
  if (!r.ok) throw new Error(`${p}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

/** Runs `npm run audit:verify`'s command line against a console's database and data dir, as an operator would. */
export async function runAuditVerifyCli(c: TestConsole, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(path.join(ROOT, "node_modules/.bin/tsx"), ["--import", "./scripts/hooks/register.mjs", "scripts/audit-verify.ts", ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: c.db.url, SPLICER_DATA_DIR: c.dataDir },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    // A non-zero exit: the verdict is in the code and the output.
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}
