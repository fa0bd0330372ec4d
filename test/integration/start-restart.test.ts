// `npm start` after a crash: the console (scripts/start.ts, embedded PostgreSQL, demo agents) is
// SIGKILLed in the middle of a rollout, five times, and started again each time on the same data
// dir. The PostgreSQL it left behind is recognised as its own and stopped, the console comes up,
// and the rollout continues and completes with one result per host. A second console on a data
// dir in use is refused with a clear message, and a pid file naming a process that is not our
// PostgreSQL never gets that process killed.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import type { Group, PatchDetail, RolloutDetail, RolloutSummary } from "@/lib/api/schemas";
import pg from "pg";
import { embeddedConsoleUrl } from "@/lib/db/embedded";
import { ROOT, eventually } from "../helpers/console";
import { diffFixture } from "../helpers/fixtures";
import { isAlive } from "@/lib/db/embedded";

const AGENTS = 4;
const ADMIN_PASSWORD = "restart-test-admin-password-7431";
const PATCHES = ["function-only-cmdline.diff", "rename-with-change.diff", "bounds-check-ipv4.diff", "new-function-added.diff", "userspace-selftest.diff"];
const FINAL = ["succeeded", "failed", "skipped", "unreachable", "reverted"];

interface Started {
  proc: ChildProcess;
  url: string;
  out: () => string;
  exited: Promise<number | null>;
}

// Each test has its own data dir: one that fails must not leave its console in the next one's way.
let dataDir: string;
const dataDirs: string[] = [];
const children: ChildProcess[] = [];

function launch(extraEnv: Record<string, string> = {}): { proc: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const env = {
    ...process.env,
    PORT: "0",
    HOST: "127.0.0.1",
    SPLICER_DATA_DIR: dataDir,
    SPLICER_DEMO_AGENTS: String(AGENTS),
    SPLICER_ADMIN_PASSWORD: ADMIN_PASSWORD,
    SPLICER_SIMULATE_BUILD_MS: "100",
    SPLICER_SKIP_BUILD_CHECK: "1",
    LOG_LEVEL: "warn",
    ...extraEnv,
  } as NodeJS.ProcessEnv;
  delete env.DATABASE_URL;
  // node itself (not the tsx wrapper, which forks) so that SIGKILL reaches the console.
  const proc = spawn(process.execPath, ["--import", "tsx", "--import", "./scripts/hooks/register.mjs", "scripts/start.ts"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(proc);
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  return { proc, out: () => out, exited };
}

async function start(): Promise<Started> {
  const l = launch();
  const url = await Promise.race([
    eventually(async () => l.out().match(/SPLICER_READY (\S+)/)?.[1], { what: "the console to start", timeoutMs: 90_000, intervalMs: 100 }),
    l.exited.then((code) => {
      throw new Error(`npm start exited with ${code} before it was ready:\n${l.out()}`);
    }),
  ]);
  return { ...l, url: url.replace("localhost", "127.0.0.1") };
}

async function api<T>(c: Started, cookie: string, p: string, init: { method?: string; json?: unknown } = {}, status?: number): Promise<T> {
  const res = await fetch(`${c.url}${p}`, {
    method: init.method ?? "GET",
    headers: { cookie, origin: c.url, ...(init.json !== undefined ? { "content-type": "application/json" } : {}) },
    body: init.json !== undefined ? JSON.stringify(init.json) : undefined,
  });
  const text = await res.text();
  if (status !== undefined) expect(res.status, text).toBe(status);
  else if (!res.ok) throw new Error(`${p}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

async function login(c: Started): Promise<string> {
  const r = await fetch(`${c.url}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: ADMIN_PASSWORD }) });
  expect(r.status).toBe(200);
  return r.headers.getSetCookie()[0].split(";")[0];
}

/** The pid in the data dir's postmaster.pid, if the file is there. */
function postmasterPid(dir = dataDir): number | null {
  try {
    return Number(fs.readFileSync(path.join(dir, "pg", "postmaster.pid"), "utf8").split("\n")[0]);
  } catch {
    return null;
  }
}

// A stopped postmaster can stay a zombie for a moment until its new parent (init) reaps it: it
// counts as gone, as it does for the console (lib/db/embedded.ts).
const alive = isAlive;

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-restart-"));
  fs.chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as a `postgres` user that must reach it
  dataDirs.push(dataDir);
});

afterAll(async () => {
  for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  for (const dir of dataDirs) {
    // A console killed last leaves its PostgreSQL: stop it (it is ours: this test's data dir).
    const pid = postmasterPid(dir);
    if (pid && alive(pid)) {
      process.kill(pid, "SIGINT");
      await eventually(async () => !alive(pid), { what: "the test's PostgreSQL to stop", timeoutMs: 30_000 }).catch(() => {});
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

describe("npm start after kill -9", () => {
  it("continues a rollout killed mid-way, 5 of 5 times: the old PostgreSQL is stopped, every host gets exactly one result", async () => {
    let c = await start();
    let cookie = await login(c);
    await eventually(async () => (await api<{ online: number }>(c, cookie, "/api/v1/fleet/summary")).online === AGENTS, { what: `${AGENTS} demo hosts online`, timeoutMs: 60_000 });
    const groups = await api<{ items: Group[] }>(c, cookie, "/api/v1/groups");
    const all = groups.items.find((g) => g.name === "All hosts")!;
    expect(all.memberCount).toBe(AGENTS);

    for (const [i, fixture] of PATCHES.entries()) {
      const diff = diffFixture(fixture);
      const patch = await api<PatchDetail>(c, cookie, "/api/v1/patches", { method: "POST", json: { title: `crash ${i}: ${fixture}`, severity: "high", cves: [], diff } }, 200);
      // One host at a time, so there is always a "mid-way"; the demo agents fail 2% of applies at
      // random: a failure must not pause the rollout, only a lost host would stall it.
      const r = await api<RolloutSummary>(c, cookie, "/api/v1/rollouts", { method: "POST", json: { patchId: patch.id, groupId: all.id, strategy: { canary: 0, waves: "100%", maxInFlight: 1, failureBudget: "100%" } } }, 201);
      await eventually(async () => {
        const d = await api<RolloutDetail>(c, cookie, `/api/v1/rollouts/${r.id}`);
        return d.hosts.some((h) => FINAL.includes(h.state)) && d.hosts.some((h) => !FINAL.includes(h.state));
      }, { what: `rollout ${i} part-way`, timeoutMs: 60_000, intervalMs: 50 });

      const pgPid = postmasterPid();
      expect(pgPid).toBeGreaterThan(0);
      c.proc.kill("SIGKILL");
      await c.exited;
      const killedAt = Date.now();
      // What the issue saw: the console is gone, its PostgreSQL is not.
      expect(alive(pgPid!)).toBe(true);

      c = await start();
      expect(c.out()).toContain(`stopping PostgreSQL (pid ${pgPid})`);
      expect(alive(pgPid!)).toBe(false);
      cookie = await login(c);
      let last: RolloutDetail | null = null;
      const done = await eventually(async () => {
        last = await api<RolloutDetail>(c, cookie, `/api/v1/rollouts/${r.id}`);
        return last.status === "completed" ? last : null;
      }, { what: `rollout ${i} completed after the restart`, timeoutMs: 60_000, intervalMs: 100 }).catch((err: Error) => {
        // Say where it stood and what the console said: a stall must be diagnosable from CI's log.
        const hosts = (last as RolloutDetail | null)?.hosts.map((h) => `${h.hostname}: ${h.state}${h.error ? ` (${h.error})` : ""}`).join("; ");
        throw new Error(`${err.message}\nrollout: ${(last as RolloutDetail | null)?.status} ${(last as RolloutDetail | null)?.pauseReason ?? ""}; ${hosts}\nconsole:\n${c.out().slice(-4000)}`);
      });
      // It was killed mid-way: it completed after the kill.
      expect(Date.parse(done.finishedAt!)).toBeGreaterThan(killedAt);
      expect(done.hosts).toHaveLength(AGENTS);
      expect(new Set(done.hosts.map((h) => h.hostId)).size).toBe(AGENTS);
      for (const h of done.hosts) {
        expect(["succeeded", "failed"], `${h.hostname}: ${h.state} ${h.error}`).toContain(h.state);
        // A failure is the simulated kernel's own, never a host the restart lost.
        if (h.state === "failed") expect(h.error).not.toMatch(/no result within|offline|download failed/);
      }
    }
    // Finally an orderly stop still stops everything.
    c.proc.kill("SIGINT");
    expect(await c.exited).toBe(0);
    expect(postmasterPid()).toBeNull();
    // Six console starts (each one tsx, Next and the demo fleet): about a minute on two idle
    // cores, more under load; no wait in here is a timing guess.
  }, 300_000);

  it("refuses a second console on a data dir in use, and leaves a process that is not its PostgreSQL alone", async () => {
    const first = await start();
    const pgPid = postmasterPid()!;
    // The running console is connected the way the embedded database allows: as its own role,
    // no superuser session on its database.
    const pgPort = Number(fs.readFileSync(path.join(dataDir, "pg", "postmaster.pid"), "utf8").split("\n")[3]);
    const probe = new pg.Client({ connectionString: embeddedConsoleUrl({ dataDir: path.join(dataDir, "pg"), port: pgPort }) });
    await probe.connect();
    try {
      const sessions = await probe.query<{ usename: string; rolsuper: boolean }>(
        `select distinct a.usename, r.rolsuper from pg_stat_activity a join pg_roles r on r.rolname = a.usename where a.datname = current_database()`,
      );
      expect(sessions.rows).toEqual([{ usename: "splicer", rolsuper: false }]);
    } finally {
      await probe.end();
    }
    const second = launch();
    expect(await second.exited).toBe(1);
    expect(second.out()).toMatch(/splicer: could not start: another process \(pid \d+, probably another Splicer console\) is running PostgreSQL on /);
    expect(second.out()).not.toContain("undefined");
    // The first console and its database are untouched.
    expect(alive(pgPid)).toBe(true);
    expect((await fetch(`${first.url}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: ADMIN_PASSWORD }) })).status).toBe(200);
    first.proc.kill("SIGINT");
    expect(await first.exited).toBe(0);

    // A pid file left behind whose pid now belongs to some other process: that process lives on.
    const bystander = spawn("sleep", ["300"], { stdio: "ignore" });
    children.push(bystander);
    fs.writeFileSync(path.join(dataDir, "pg", "postmaster.pid"), `${bystander.pid}\n${path.join(dataDir, "pg")}\n`);
    const third = await start();
    expect(alive(bystander.pid!)).toBe(true);
    third.proc.kill("SIGINT");
    expect(await third.exited).toBe(0);
    bystander.kill();
  });
});
