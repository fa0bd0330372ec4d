// Hosts list (search, filters, sort, pages), labels, fleet summary and live /ui notifications.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetSummary, Host, HostDetail } from "@/lib/api/schemas";
import { getJson, startTestConsole, type TestConsole } from "../../helpers/console";
import { connected, connectOutcome, openUiSocket } from "../../helpers/sockets";

let c: TestConsole;
const KERNELS = ["6.1.0-50-amd64", "6.1.0-56-amd64", "5.15.0-119-generic", "5.14.0-427.13.1.el9_4.x86_64"];
const DISTROS = [
  ["debian", "Debian GNU/Linux", "12"],
  ["debian", "Debian GNU/Linux", "12"],
  ["ubuntu", "Ubuntu", "22.04"],
  ["rhel", "Red Hat Enterprise Linux", "9.4"],
];

beforeAll(async () => {
  c = await startTestConsole();
  // 40 hosts straight into the table: this file tests querying, not enrollment.
  const values: string[] = [];
  for (let i = 0; i < 40; i++) {
    const k = i % 4;
    const [id, name, ver] = DISTROS[k];
    const env = i % 2 ? "prod" : "staging";
    const online = i % 3 !== 0;
    const seen = online ? "now()" : i === 3 ? "now() - interval '3 days'" : "now() - interval '5 minutes'";
    values.push(
      `('${`web-${String(i).padStart(3, "0")}.fra1`}', 'machine-${i}', '${"ab".repeat(32)}${i}', '${KERNELS[k]}', '${id}', '${name}', '${ver}', ${online}, ${seen}, '{"env":"${env}","role":"${i < 20 ? "web" : "db"}"}'::jsonb)`,
    );
  }
  await c.db.query(`insert into "Host" (id, hostname, "machineId", "credentialHash", "kernelRelease", "distroId", "distroName", "distroVersion", online, "lastSeenAt", labels)
    select gen_random_uuid(), v.* from (values ${values.join(",")}) as v`);
});
afterAll(async () => c?.stop());

describe("GET /api/v1/hosts", () => {
  it("pages through every host exactly once, in order", async () => {
    const seen: string[] = [];
    for (let offset = 0; ; offset += 15) {
      const page = await getJson<{ items: Host[]; total: number }>(c, `/api/v1/hosts?limit=15&offset=${offset}`);
      expect(page.total).toBe(40);
      if (page.items.length === 0) break;
      seen.push(...page.items.map((h) => h.hostname));
    }
    expect(seen).toHaveLength(40);
    expect(new Set(seen).size).toBe(40);
    expect(seen).toEqual([...seen].sort());
  });

  it("searches and filters by kernel, distro, online state and labels", async () => {
    expect((await getJson<{ total: number }>(c, "/api/v1/hosts?q=web-01")).total).toBe(10);
    expect((await getJson<{ total: number }>(c, "/api/v1/hosts?q=5.15.0")).total).toBe(10);
    const kernel = await getJson<{ items: Host[]; total: number }>(c, `/api/v1/hosts?kernel=${KERNELS[1]}`);
    expect(kernel.total).toBe(10);
    expect(kernel.items.every((h) => h.kernelRelease === KERNELS[1])).toBe(true);
    expect((await getJson<{ total: number }>(c, "/api/v1/hosts?distro=debian")).total).toBe(20);
    const offline = await getJson<{ items: Host[]; total: number }>(c, "/api/v1/hosts?online=false&limit=100");
    expect(offline.total).toBe(14);
    expect(offline.items.every((h) => !h.online)).toBe(true);
    expect((await getJson<{ total: number }>(c, "/api/v1/hosts?label=env=prod")).total).toBe(20);
    expect((await getJson<{ total: number }>(c, "/api/v1/hosts?label=env=prod&label=role=db")).total).toBe(10);
    expect((await getJson<{ total: number }>(c, "/api/v1/hosts?label=role")).total).toBe(40);
    expect((await getJson<{ total: number }>(c, "/api/v1/hosts?label=nope")).total).toBe(0);
  });

  it("sorts by any column in both directions", async () => {
    const desc = await getJson<{ items: Host[] }>(c, "/api/v1/hosts?sort=hostname&order=desc&limit=3");
    expect(desc.items.map((h) => h.hostname)).toEqual(["web-039.fra1", "web-038.fra1", "web-037.fra1"]);
    const byKernel = await getJson<{ items: Host[] }>(c, "/api/v1/hosts?sort=kernelRelease&limit=100");
    const ks = byKernel.items.map((h) => h.kernelRelease);
    expect(ks).toEqual([...ks].sort());
    const bySeen = await getJson<{ items: Host[] }>(c, "/api/v1/hosts?sort=lastSeenAt&order=asc&limit=1");
    expect(bySeen.items[0].hostname).toBe("web-003.fra1");
  });
});

describe("labels and live updates", () => {
  it("an operator's label change is stored, audited, on the timeline, and pushed to browsers", async () => {
    const cookie = await c.login("admin", c.adminPassword);
    const ui = await connected(openUiSocket(c.url, { cookie }));
    const [host] = (await getJson<{ items: Host[] }>(c, "/api/v1/hosts?q=web-007")).items;
    const pushed = new Promise<{ ids: string[] }>((resolve) => ui.on("hosts:changed", (e: { ids: string[] }) => e.ids.includes(host.id) && resolve(e)));
    const r = await c.api(`/api/v1/hosts/${host.id}`, { method: "PATCH", json: { labels: { env: "prod", team: "payments" } }, headers: { origin: c.url } });
    expect(r.status).toBe(200);
    expect((await r.json()).labels).toEqual({ env: "prod", team: "payments" });
    await pushed;
    ui.close();
    const detail = await getJson<HostDetail>(c, `/api/v1/hosts/${host.id}`);
    expect(detail.events[0]).toMatchObject({ type: "labels_changed", details: { set: { team: "payments" }, removed: ["role"] } });
    const audit = await getJson<{ items: { action: string; targetId: string }[] }>(c, `/api/v1/audit?targetId=${host.id}`);
    expect(audit.items[0]).toMatchObject({ action: "host.labels_updated", targetId: host.id });
  });

  it("refuses browsers on /ui without a session", async () => {
    const ui = openUiSocket(c.url);
    const err = await connectOutcome(ui);
    ui.close();
    expect(err).toBe("sign in first");
  });
});

describe("GET /api/v1/fleet/summary", () => {
  it("counts online, offline and stale hosts, kernels, distros and labels", async () => {
    const s = await getJson<FleetSummary>(c, "/api/v1/fleet/summary");
    expect(s.total).toBe(40);
    expect(s.online).toBe(26);
    expect(s.offline).toBe(14);
    expect(s.stale).toBe(1);
    expect(s.staleHosts.map((h) => h.hostname)).toEqual(["web-003.fra1"]);
    expect(s.kernels).toHaveLength(4);
    expect(s.kernels.reduce((n, k) => n + k.count, 0)).toBe(40);
    expect(s.distros.find((d) => d.id === "debian")?.count).toBe(20);
    expect(s.labels.find((l) => l.key === "env" && l.value === "prod")?.count).toBeGreaterThanOrEqual(20);
  });
});

describe("OpenAPI", () => {
  it("documents every public path with schemas generated from the validators", async () => {
    const doc = await (await fetch(`${c.url}/api/v1/openapi.json`)).json();
    expect(doc.openapi).toBe("3.1.0");
    for (const p of ["/api/v1/hosts", "/api/v1/hosts/{id}", "/api/v1/fleet/summary", "/api/v1/enrollment-tokens", "/api/v1/audit", "/api/v1/auth/login"]) {
      expect(doc.paths[p], p).toBeDefined();
    }
    const params = doc.paths["/api/v1/hosts"].get.parameters.map((p: { name: string }) => p.name);
    expect(params).toEqual(expect.arrayContaining(["q", "kernel", "online", "limit", "offset", "label"]));
  });
});

describe("/metrics", () => {
  it("exposes Prometheus text with agent, message and database metrics", async () => {
    const text = await (await fetch(`${c.url}/metrics`)).text();
    expect(text).toMatch(/^splicer_agents_connected \d+/m);
    expect(text).toMatch(/splicer_db_query_seconds_bucket/);
    expect(text).toMatch(/splicer_agent_messages_total|# TYPE splicer_agent_messages_total counter/);
  });
});
