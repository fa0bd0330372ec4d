// A bounded fuzz of the console's two doors, with real parts: hostile agents on real socket.io
// connections (thousands of malformed, oversized, misnamed and cross-host frames, text Postgres
// cannot store) and hostile HTTP requests to every API route (bad ids, query strings and bodies),
// while an honest fleet is rolled out. The console must answer every request with less than 500,
// stay healthy throughout, and store every honest host's result. Seeded: a failure reproduces.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Fleet } from "@/agent/sim/fleet";
import type { Group, PatchDetail, RolloutDetail, RolloutSummary } from "@/lib/api/schemas";
import { ROOT, eventually, startSimulatedFleet, startTestConsole, type TestConsole } from "../../helpers/console";
import { diffFixture } from "../../helpers/fixtures";
import { agentAuth, agentSockets, connectOutcome } from "../../helpers/sockets";

const HONEST = 6;
const HOSTILE_FRAMES = 3000;
const SEED = 0x5eed;

/** mulberry32: small, seeded, good enough to pick fuzz cases reproducibly. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  return { next, int, pick };
}
const rnd = prng(SEED);
const seededUuid = () => {
  const hex = Array.from({ length: 32 }, () => rnd.int(16).toString(16)).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};

// Text that breaks naive code: what Postgres cannot store (NUL, lone surrogates), what casts
// fail on (uuid, bigint), escapes, markup, sizes.
const HOSTILE_STRINGS = [
  "\u0000", "a\u0000b", "\ud800", "x\udfffy", "\ud83d", "-".repeat(36), "9".repeat(40), "-9".repeat(20), "%", "%zz", "%E0%A4%A",
  "../../etc/passwd", "'; drop table \"Host\"; --", "<script>alert(1)</script>", "${7*7}", "𝔘𝔫𝔦", "", " ", "null", "NaN", "1e309",
  "00000000-0000-0000-0000-000000000000", "x".repeat(5000), "\n\r\t", "=", "a=b=c", "%00",
];
const hostileValue = (depth = 0): unknown => {
  switch (rnd.int(depth > 3 ? 6 : 9)) {
    case 0: return rnd.pick(HOSTILE_STRINGS);
    case 1: return rnd.pick([0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, Number.MAX_SAFE_INTEGER]);
    case 2: return rnd.pick([true, false, null]);
    case 3: return rnd.pick(HOSTILE_STRINGS) + rnd.pick(HOSTILE_STRINGS);
    case 4: return seededUuid();
    case 5: return "";
    case 6: return Array.from({ length: rnd.int(4) }, () => hostileValue(depth + 1));
    default: return Object.fromEntries(Array.from({ length: rnd.int(4) + 1 }, () => [rnd.pick(FIELD_NAMES), hostileValue(depth + 1)]));
  }
};
// Field names the API and protocol use, so that bad values reach the validators and the SQL.
const FIELD_NAMES = [
  "hostname", "machineId", "bootId", "kernelRelease", "kernelVersion", "distro", "arch", "uptimeSec", "cpuCount", "memoryBytes",
  "livepatches", "agentVersion", "jobId", "phase", "error", "log", "blockingTasks", "finishedAt", "name", "description", "selector",
  "labels", "hostIds", "kernelReleases", "distros", "all", "username", "password", "role", "disabled", "title", "severity", "cves",
  "diff", "patchId", "groupId", "strategy", "canary", "waves", "maxInFlight", "failureBudget", "reason", "receivedSha256",
  "maxUses", "expiresInHours", "expiresInDays", "enrollmentToken", "__proto__", "constructor",
];
const QUERY_NAMES = ["q", "kernel", "distro", "label", "actor", "action", "target", "before", "after", "limit", "cursor", "state", "online", "status", "page", "hostId", "patchId", "groupId", "sort", "missingPatch", "from", "to"];
// Path segments for [id]: garbage, casts that fail, a well-formed id of nothing, escapes.
const BAD_IDS = ["not-a-uuid", "-".repeat(36), "%zz", "%00", "%E0%A4%A", "00000000-0000-4000-8000-000000000000", "9".repeat(40), "..%2F..%2Fetc", "%ED%A0%80"];

/** Every API route file as a path template and its methods. */
function apiRoutes(): { template: string; methods: string[] }[] {
  const out: { template: string; methods: string[] }[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === "route.ts") {
        const src = fs.readFileSync(p, "utf8");
        const methods = [...src.matchAll(/export (?:const|async function) (GET|POST|PUT|PATCH|DELETE)\b/g)].map((m) => m[1]);
        out.push({ template: "/" + path.relative(path.join(ROOT, "app"), path.dirname(p)).split(path.sep).join("/"), methods });
      }
    }
  };
  walk(path.join(ROOT, "app/api"));
  return out;
}

let c: TestConsole;
let fleet: Fleet;
let group: Group;
let fuzzCookie: string;
const sockets = agentSockets(() => c.url);

beforeAll(async () => {
  c = await startTestConsole({ env: { SPLICER_SIMULATE_BUILD_MS: "200" } });
  fleet = await startSimulatedFleet(c, { agents: HONEST, seed: "fuzz", applyMs: 300 });
  const hostIds = fleet.agents.map((a) => a.agent.hostId!);
  const res = await c.api("/api/v1/groups", { method: "POST", json: { name: "honest", selector: { hostIds } }, headers: { origin: c.url } });
  expect(res.status, await res.clone().text()).toBe(201);
  group = (await res.json()) as Group;
  // The fuzzer's own session: if a fuzzed request ends it, the test's admin session is unaffected.
  fuzzCookie = await c.login("admin", c.adminPassword);
});
afterAll(async () => {
  await fleet?.stop();
  await c?.stop();
});

/** One hostile agent: enrolled for real, then sending `frames` bad frames, reconnecting when dropped. */
async function hostileAgent(name: string, frames: number, honestJobIds: () => string[]): Promise<{ sent: number; refused: number; connects: number }> {
  const cred = await c.enroll(name, `${name}-machine`);
  let sent = 0;
  let refused = 0;
  let connects = 0;
  const events = ["inventory", "heartbeat", "job_update", "job", "config", "revoked", "rm -rf", "__proto__", "constructor", "x".repeat(300), "toString"];
  while (sent < frames) {
    const s = sockets.open(agentAuth(cred));
    s.on("protocol_error", () => refused++);
    const outcome = await connectOutcome(s);
    if (outcome !== "connected") throw new Error(`${name} could not connect (${outcome}): the hostile agent's own credential must keep working`);
    connects++;
    // The console drops a repeat offender; send until it does, then reconnect.
    while (s.connected && sent < frames) {
      const kind = rnd.int(10);
      const event = kind < 7 ? rnd.pick(["inventory", "heartbeat", "job_update"]) : kind < 9 ? rnd.pick(events) : `ev-${rnd.int(1e9)}`;
      let payload: unknown;
      if (event === "job_update" && rnd.int(2) === 0) {
        // Other hosts' jobs, with text Postgres cannot store and phases that would finish them.
        const ids = honestJobIds();
        payload = { jobId: ids.length ? rnd.pick(ids) : seededUuid(), phase: rnd.pick(["failed", "succeeded", "applying", "bogus"]), error: rnd.pick(HOSTILE_STRINGS), log: [rnd.pick(HOSTILE_STRINGS)] };
      } else payload = hostileValue();
      sent++;
      // Mostly one at a time, so each frame reaches the console before it drops the offender.
      if (rnd.int(4) === 0) s.emit(event, payload);
      else await s.timeout(2000).emitWithAck(event, payload).catch(() => {});
    }
    s.close();
  }
  return { sent, refused, connects };
}

/** Every route × method, with bad ids, query strings and bodies, as a signed-in admin and as nobody. */
async function httpFuzz(): Promise<{ requests: number; serverErrors: string[] }> {
  const serverErrors: string[] = [];
  let requests = 0;
  const routes = apiRoutes();
  const send = async (method: string, url: string, body: string | undefined, signedIn: boolean, what: string) => {
    const headers: Record<string, string> = { origin: c.url };
    if (signedIn) headers.cookie = fuzzCookie;
    if (body !== undefined) headers["content-type"] = rnd.int(8) === 0 ? "text/plain" : "application/json";
    requests++;
    const res = await fetch(`${c.url}${url}`, { method, headers, body });
    await res.arrayBuffer().catch(() => {});
    if (res.status >= 500) serverErrors.push(`${res.status} ${method} ${url.slice(0, 160)} ${what}`);
  };
  for (const { template, methods } of routes) {
    for (const method of methods) {
      // Ending the fuzzer's session would only make the rest of the run anonymous.
      const signedInToo = !template.endsWith("/auth/logout");
      for (let i = 0; i < 8; i++) {
        const url = template.replace(/\[[^\]]+\]/g, () => rnd.pick(BAD_IDS));
        const qs = Array.from({ length: rnd.int(4) + 1 }, () => `${rnd.pick(QUERY_NAMES)}=${encodeQuery(rnd.pick(HOSTILE_STRINGS))}`).join("&");
        const target = method === "GET" || i % 2 === 0 ? `${url}?${qs}` : url;
        let body: string | undefined;
        if (method !== "GET") {
          const v = rnd.int(6);
          body = v === 0 ? "{not json" : v === 1 ? "[".repeat(5000) + "]".repeat(5000) : v === 2 ? JSON.stringify("\u0000") : JSON.stringify(hostileValue());
        }
        await send(method, target, body, signedInToo && i % 2 === 0, `#${i}`);
      }
    }
  }
  return { requests, serverErrors };
}

/** Percent-encodes what a URL needs, keeping a hostile string's own % escapes as they are. */
function encodeQuery(s: string): string {
  if (/%/.test(s)) return s.replace(/[^%A-Za-z0-9-]/g, (ch) => escape(ch));
  try {
    return encodeURIComponent(s);
  } catch {
    // A lone surrogate has no UTF-8: send its CESU-8 bytes, which a server must refuse or replace.
    return "%ED%A0%80";
  }
}

describe("fuzzing the console while an honest fleet is patched", () => {
  it("answers no request with 5xx, stays healthy, and stores every honest host's result", async () => {
    const patch = (await (
      await c.api("/api/v1/patches", { method: "POST", headers: { origin: c.url }, json: { title: "fuzz target", severity: "high", cves: [], diff: diffFixture("rename-with-change.diff") } })
    ).json()) as PatchDetail;
    const started = await c.api("/api/v1/rollouts", { method: "POST", headers: { origin: c.url }, json: { patchId: patch.id, groupId: group.id, strategy: { canary: 1, waves: "100%", maxInFlight: HONEST } } });
    expect(started.status, await started.clone().text()).toBe(201);
    const rollout = (await started.json()) as RolloutSummary;
    let jobIds: string[] = [];
    const refreshJobs = setInterval(() => {
      void c.db.query<{ id: string }>(`select id::text from "RolloutHost" where "rolloutId" = $1`, [rollout.id]).then((r) => (jobIds = r.map((x) => x.id)), () => {});
    }, 200);

    // Health is watched the whole time.
    const health: number[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const r = await fetch(`${c.url}/api/health`).catch(() => null);
        health.push(r?.status ?? 0);
        await new Promise((res) => setTimeout(res, 250));
      }
    })();

    const [a, b, http] = await Promise.all([
      hostileAgent("hostile-1", HOSTILE_FRAMES / 2, () => jobIds),
      hostileAgent("hostile-2", HOSTILE_FRAMES / 2, () => jobIds),
      httpFuzz(),
    ]);
    clearInterval(refreshJobs);

    const done = await eventually(async () => {
      const r = (await (await c.api(`/api/v1/rollouts/${rollout.id}`)).json()) as RolloutDetail;
      return r.status !== "running" ? r : null;
    }, { what: "the honest rollout to finish", timeoutMs: 90_000, intervalMs: 250 });
    watching = false;
    await watcher;

    // The run's figures, in the test log: what was thrown at the console and what it answered.
    console.info(`fuzz: ${a.sent + b.sent} agent frames (${a.refused + b.refused} refused, ${a.connects + b.connects} connections), ${http.requests} HTTP requests, ${health.length} health checks`);
    expect(a.sent + b.sent).toBe(HOSTILE_FRAMES);
    expect(a.refused + b.refused, "the console tells a hostile agent what it refused").toBeGreaterThan(HOSTILE_FRAMES / 2);
    expect(a.connects + b.connects, "repeat offenders are dropped").toBeGreaterThan(HOSTILE_FRAMES / 20);
    expect(http.requests).toBeGreaterThan(400);
    expect(http.serverErrors, "no request may be answered with 5xx").toEqual([]);
    expect(health.length).toBeGreaterThan(4);
    expect(health.filter((s) => s !== 200), "health stays 200 throughout").toEqual([]);
    expect(done.status).toBe("completed");
    expect(done.counts).toEqual({ succeeded: HONEST });
    // Honest hosts keep their identity and connection.
    const rows = await c.db.query<{ id: string; online: boolean; status: string }>(`select id::text, online, status::text from "Host" where id = any($1::uuid[])`, [fleet.agents.map((x) => x.agent.hostId!)]);
    expect(rows.filter((r) => r.online && r.status === "active").length).toBe(HONEST);
    const res = await fetch(`${c.url}/api/health`);
    expect(res.status).toBe(200);
  });
});
