// Exposure and effective kernels from the database's point of view: which hosts a staged patch
// targets and lacks (per CVE, by kernel release and by group), the hosts list's `missing` filter,
// and a host's effective kernel. Hosts are rows written directly; no agents are needed.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Exposure, FleetSummary, Group, HostDetail, HostList, PatchDetail } from "@/lib/api/schemas";
import { eventually, expectJson, startTestConsole, type TestConsole } from "../../helpers/console";
import { diffFixture } from "../../helpers/fixtures";

const moduleOf = (patchId: string) => `livepatch_${patchId.replace(/-/g, "").slice(0, 12)}`;

let c: TestConsole;
let cmdline: PatchDetail;
let ipv4: PatchDetail;

const post = (p: string, body: unknown) => c.api(p, { method: "POST", json: body, headers: { origin: c.url } });

/** Hosts: name → [kernel release, env label]. */
const HOSTS: Record<string, [string, string]> = {
  "a-prod": ["6.1.0-50-amd64", "prod"],
  "b-prod": ["6.1.0-50-amd64", "prod"],
  "c-prod": ["5.10.0-30-amd64", "prod"],
  "d-staging": ["6.1.0-50-amd64", "staging"],
  "e-staging": ["5.10.0-30-amd64", "staging"],
};

async function setLivepatches(hostname: string, names: string[]) {
  await c.db.query(`update "Host" set livepatches = $1::jsonb where hostname = $2`, [JSON.stringify(names.map((name) => ({ name, enabled: true, transition: false }))), hostname]);
}

beforeAll(async () => {
  c = await startTestConsole({ env: { SPLICER_SIMULATE_BUILD_MS: "50" } });
  for (const [name, [release, env]] of Object.entries(HOSTS)) {
    await c.db.query(
      `insert into "Host" (id, hostname, "machineId", "credentialHash", "kernelRelease", online, labels) values (gen_random_uuid(), $1, $2, $3, $4, true, $5::jsonb)`,
      [name, `m-${name}`, crypto.randomBytes(32).toString("hex"), release, JSON.stringify({ env })],
    );
  }
  // Every release; and one for 6.1 only, fixing two CVEs.
  cmdline = await expectJson<PatchDetail>(await post("/api/v1/patches", { title: "cmdline", severity: "medium", cves: ["CVE-2026-1001"], diff: diffFixture("function-only-cmdline.diff") }));
  ipv4 = await expectJson<PatchDetail>(
    await post("/api/v1/patches", { title: "ipv4", severity: "critical", cves: ["CVE-2026-2001", "CVE-2026-2002"], diff: diffFixture("bounds-check-ipv4.diff"), kernelReleases: ["6.1.0-50-amd64"] }),
  );
  await setLivepatches("a-prod", [moduleOf(cmdline.id), moduleOf(ipv4.id)]);
  await setLivepatches("d-staging", [moduleOf(ipv4.id)]);
  await expectJson<Group>(await post("/api/v1/groups", { name: "prod", selector: { labels: { env: "prod" } } }), 201);
  await expectJson<Group>(await post("/api/v1/groups", { name: "staging", selector: { labels: { env: "staging" } } }), 201);
});
afterAll(async () => {
  await c?.stop();
});

describe("exposure", () => {
  it("counts, per CVE, the targeted hosts that lack the patch, by kernel release and by group, most severe first", async () => {
    const e = await expectJson<Exposure>(await c.api("/api/v1/exposure"));
    expect(e.activeHosts).toBe(5);
    // Exposed to something: b, c, d (cmdline), e; a has both patches.
    expect(e.exposedHosts).toBe(4);
    expect(e.items.map((i) => i.cve)).toEqual(["CVE-2026-2001", "CVE-2026-2002", "CVE-2026-1001"]);
    const crit = e.items[0];
    expect(crit).toMatchObject({ severity: "critical", targeted: 3, exposed: 1, patches: [{ id: ipv4.id, title: "ipv4" }] });
    expect(crit.byRelease).toEqual([{ kernelRelease: "6.1.0-50-amd64", targeted: 3, exposed: 1, rebootRequired: 0 }]);
    expect(crit.byGroup).toEqual([
      { groupId: expect.any(String), name: "prod", targeted: 2, exposed: 1 },
      { groupId: expect.any(String), name: "staging", targeted: 1, exposed: 0 },
    ]);
    const med = e.items[2];
    expect(med).toMatchObject({ severity: "medium", targeted: 5, exposed: 4 });
    expect(med.byRelease).toEqual([
      { kernelRelease: "5.10.0-30-amd64", targeted: 2, exposed: 2, rebootRequired: 0 },
      { kernelRelease: "6.1.0-50-amd64", targeted: 3, exposed: 2, rebootRequired: 0 },
    ]);
    expect(med.byGroup.map((g) => [g.name, g.targeted, g.exposed])).toEqual([["prod", 3, 2], ["staging", 2, 2]]);
    expect((await expectJson<Exposure>(await c.api("/api/v1/exposure?limit=1"))).items).toHaveLength(1);
  });

  it("lists the exposed hosts of a patch, and shows each host's effective kernel and missing patches", async () => {
    const missing = await expectJson<HostList>(await c.api(`/api/v1/hosts?missing=${ipv4.id}`));
    expect(missing.items.map((h) => h.hostname)).toEqual(["b-prod"]);
    const all = await expectJson<HostList>(await c.api(`/api/v1/hosts?missing=${cmdline.id}&sort=hostname`));
    expect(all.items.map((h) => h.hostname)).toEqual(["b-prod", "c-prod", "d-staging", "e-staging"]);
    const id = (await expectJson<HostList>(await c.api(`/api/v1/hosts?q=a-prod`))).items[0].id;
    const a = await expectJson<HostDetail>(await c.api(`/api/v1/hosts/${id}`));
    expect(a.effective.summary).toBe("6.1.0-50-amd64 + 2 livepatches");
    expect(a.effective.livepatches.map((l) => l.patch?.title).sort()).toEqual(["cmdline", "ipv4"]);
    expect(a.effective.missing).toEqual([]);
    const eId = (await expectJson<HostList>(await c.api(`/api/v1/hosts?q=e-staging`))).items[0].id;
    const e = await expectJson<HostDetail>(await c.api(`/api/v1/hosts/${eId}`));
    expect(e.effective.summary).toBe("5.10.0-30-amd64");
    // ipv4 targets 6.1 only: not missing on a 5.10 host.
    expect(e.effective.missing.map((m) => [m.title, m.remedy])).toEqual([["cmdline", "live_patch"]]);
  });

  it("a release whose build found the fix already there is not exposed; one whose build refused the patch needs a reboot, in the exposure view, the host page, the fleet counts and /metrics", async () => {
    // The builds have finished (simulated); then: 5.10 already has the cmdline fix, and 6.1's
    // build of ipv4 was refused (what a real builder says of a change no live patch can carry).
    await eventually(async () => {
      const rows = await c.db.query(`select count(*)::int as n from "Build" where status in ('queued', 'building')`);
      return rows[0]?.n === 0 ? true : null;
    }, { what: "builds finished" });
    await c.db.query(`update "Build" set status = 'failed', outcome = 'already_fixed', error = 'the release has the fix' where "patchId" = $1 and "kernelRelease" = '5.10.0-30-amd64'`, [cmdline.id]);
    await c.db.query(`update "Build" set status = 'failed', outcome = 'refused', error = 'changes initialised data: ip_rt_max_size' where "patchId" = $1 and "kernelRelease" = '6.1.0-50-amd64'`, [ipv4.id]);

    const e = await expectJson<Exposure>(await c.api("/api/v1/exposure"));
    const med = e.items.find((i) => i.cve === "CVE-2026-1001")!;
    expect(med).toMatchObject({ targeted: 5, exposed: 2, rebootRequired: 0 });
    expect(med.byRelease).toContainEqual({ kernelRelease: "5.10.0-30-amd64", targeted: 2, exposed: 0, rebootRequired: 0 });
    const crit = e.items.find((i) => i.cve === "CVE-2026-2001")!;
    expect(crit).toMatchObject({ exposed: 1, rebootRequired: 1 });
    // b-prod (6.1, lacks both) needs a reboot; d-staging lacks only cmdline, which 6.1 can take live.
    expect(e).toMatchObject({ exposedHosts: 2, rebootHosts: 1 });

    const missing = await expectJson<HostList>(await c.api(`/api/v1/hosts?missing=${cmdline.id}&sort=hostname`));
    expect(missing.items.map((h) => h.hostname)).toEqual(["b-prod", "d-staging"]);
    const bId = (await expectJson<HostList>(await c.api(`/api/v1/hosts?q=b-prod`))).items[0].id;
    const b = await expectJson<HostDetail>(await c.api(`/api/v1/hosts/${bId}`));
    expect(b.effective.missing.map((m) => [m.title, m.remedy])).toEqual([["ipv4", "reboot"], ["cmdline", "live_patch"]]);
    expect(b.effective.missing[0]?.why).toContain("ip_rt_max_size");
    const eId = (await expectJson<HostList>(await c.api(`/api/v1/hosts?q=e-staging`))).items[0].id;
    expect((await expectJson<HostDetail>(await c.api(`/api/v1/hosts/${eId}`))).effective.missing).toEqual([]);

    const summary = await eventually(async () => {
      const s = await expectJson<FleetSummary>(await c.api("/api/v1/fleet/summary"));
      return s.rebootRequired === 1 ? s : null;
    }, { what: "one host needing a reboot in the summary" });
    expect(summary.rebootRequired).toBe(1);
    expect(await (await fetch(`${c.url}/metrics`)).text()).toMatch(/^splicer_fleet_hosts\{state="reboot_required"\} 1$/m);
  });
});
