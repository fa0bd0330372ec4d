// The console in a real browser (Debian's Chromium driven by playwright-core) against a real
// console process and real agents: sign in, the fleet overview, a host appearing live without a
// reload, filtering hosts, editing labels; and screenshots of every page in both themes.
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetSummary, Host, HostList } from "@/lib/api/schemas";
import type { Fleet } from "@/agent/sim/fleet";
import { closeBrowserTest, SHOTS, VIEWPORT, expectScreenshot, cspViolations, haveBrowser, launchBrowser, openPage, signInAsAdmin, waitLive, poll } from "../helpers/browser";
import { startSimulatedFleet, eventually, startAgentProcess, startTestConsole, type AgentProcess, type TestConsole, getJson as getJsonAs } from "../helpers/console";
import { makeFakeHost } from "../helpers/fake-host";

const FLEET_SIZE = 36;

let c: TestConsole;
let fleet: Fleet | undefined;
let browser: Browser;
const agents: AgentProcess[] = [];
const contexts: BrowserContext[] = [];


const getJson = <T,>(p: string): Promise<T> => getJsonAs<T>(c, p);

const newPage = (colorScheme: "light" | "dark" = "light"): Promise<Page> => openPage(browser, c.url, contexts, colorScheme);

const signIn = (page: Page, next = "/fleet"): Promise<void> => signInAsAdmin(page, c.adminPassword, next);


/** Labels derived from the simulated hostnames (role-env-nnn.region), so filters have something to bite on. */
async function labelFleet(): Promise<void> {
  const { items } = await getJson<HostList>("/api/v1/hosts?limit=500");
  await Promise.all(
    items.map(async (h) => {
      const m = /^([a-z]+)-([a-z]+)-\d+\.([a-z0-9]+)$/.exec(h.hostname);
      if (!m) return;
      const r = await c.api(`/api/v1/hosts/${h.id}`, { method: "PATCH", json: { labels: { role: m[1], env: m[2], region: m[3] } } });
      if (!r.ok) throw new Error(`label ${h.hostname}: ${r.status}`);
    }),
  );
}

beforeAll(async () => {
  if (!haveBrowser) return;
  c = await startTestConsole();
  fleet = await startSimulatedFleet(c, { agents: FLEET_SIZE, seed: "e2e" });
  await labelFleet();
  // A fleet has history: a few hosts went away, one long enough ago to be stale, one was revoked.
  await Promise.all(fleet.agents.slice(0, 4).map((a) => a.agent.stop()));
  const items = await eventually(async () => {
    const r = await getJson<HostList>("/api/v1/hosts?online=false&limit=10");
    return r.items.length === 4 ? r.items : null;
  }, { what: "four stopped agents offline", timeoutMs: 30_000 });
  await c.db.query(`update "Host" set "lastSeenAt" = now() - interval '3 hours' where id = any($1::uuid[])`, [items.slice(0, 2).map((h) => h.id)]);
  const revoke = await c.api(`/api/v1/hosts/${items[items.length - 1].id}/revoke`, { method: "POST", json: { reason: "reimaged" } });
  expect(revoke.ok).toBe(true);

  // Other people use this console too.
  for (const [username, role] of [["alice", "operator"], ["bob", "viewer"], ["carol", "admin"]] as const) {
    const r = await c.api("/api/v1/operators", { method: "POST", json: { username, password: `${username}-password-1`, role } });
    expect(r.status).toBeLessThan(300);
  }
  const bob = (await getJson<{ items: { id: string; username: string }[] }>("/api/v1/operators")).items.find((o) => o.username === "bob")!;
  expect((await c.api(`/api/v1/operators/${bob.id}`, { method: "PATCH", json: { disabled: true } })).ok).toBe(true);
  for (const [name, role] of [["ci-deploy", "operator"], ["grafana", "viewer"]] as const) {
    expect((await c.api("/api/v1/api-tokens", { method: "POST", json: { name, role, expiresInDays: 90 } })).ok).toBe(true);
  }

  browser = await launchBrowser();
});

afterAll(() => closeBrowserTest({ contexts, browser, stop: [...agents, fleet, c] }));

describe.skipIf(!haveBrowser)("console in a browser", () => {
  let page: Page;
  let liveHost: Host;

  it("sends a signed-out visitor to the login page and rejects a wrong password", async () => {
    page = await newPage();
    await page.goto("/hosts");
    await page.waitForURL(/\/login\?next=%2Fhosts/);
    await page.fill("#username", "admin");
    await page.fill("#password", "not-the-password");
    await page.click("button[type=submit]");
    await poll(() => page.locator("#login-error").textContent()).toMatch(/wrong username or password/i);
  });

  it("signs in and shows the fleet overview with live counts", async () => {
    await signIn(page, "/fleet");
    const summary = await getJson<FleetSummary>("/api/v1/fleet/summary");
    await poll(() => page.getByTestId("stat-total").textContent()).toBe(String(summary.total));
    await poll(() => page.getByTestId("stat-online").textContent()).toBe(String(summary.online));
    expect(await page.getByTestId("stat-stale").textContent()).toBe("2");
    // The kernel chart names every release it draws (accessible label).
    const chart = page.getByRole("img", { name: /Hosts per kernel release/ });
    await poll(() => chart.getAttribute("aria-label")).toContain(summary.kernels[0].kernelRelease);
    await waitLive(page);
  });

  it("shows a newly installed agent on the fleet overview and the hosts list without a reload", async () => {
    const hosts = await newPage();
    await signIn(hosts, "/hosts?q=e2e-live");
    await poll(() => hosts.getByText("No hosts match these filters").isVisible()).toBe(true);
    await waitLive(hosts);
    const before = Number(await page.getByTestId("stat-total").textContent());
    // A page that reloads loses this marker.
    for (const p of [page, hosts]) await p.evaluate(() => ((window as unknown as { __marker: number }).__marker = 42));

    const fake = makeFakeHost({ hostname: "e2e-live-01", kernelRelease: "6.1.0-56-cloud-amd64", livepatches: { livepatch_cve_2024_1086: { enabled: true } } });
    const agent = startAgentProcess({ server: c.url, enrollToken: await c.enrollmentToken({ maxUses: 1 }), backend: "livepatch", args: fake.args });
    agents.push(agent);

    await hosts.getByTestId("host-link").filter({ hasText: "e2e-live-01" }).waitFor({ timeout: 30_000 });
    await poll(() => page.getByTestId("stat-total").textContent()).toBe(String(before + 1));
    for (const p of [page, hosts]) expect(await p.evaluate(() => (window as unknown as { __marker?: number }).__marker)).toBe(42);
    expect(await hosts.getByTestId("hosts-range").textContent()).toMatch(/1–1\s*of\s*1 hosts/);
    // The host is listed from its enrollment on; it is online once its connection is recorded.
    await poll(async () => (await getJson<HostList>("/api/v1/hosts?q=e2e-live-01")).items[0]?.online).toBe(true);
    liveHost = (await getJson<HostList>("/api/v1/hosts?q=e2e-live-01")).items[0];
  });

  it("filters hosts by kernel release, search, state and label, keeping the filters in the URL", async () => {
    const kernel = (await getJson<FleetSummary>("/api/v1/fleet/summary")).kernels[0].kernelRelease;
    const count = (await getJson<HostList>(`/api/v1/hosts?kernel=${encodeURIComponent(kernel)}&limit=1`)).total;
    await page.goto("/hosts");
    await page.getByRole("combobox", { name: "Kernel release" }).click();
    await page.locator(`[role=option][data-value="${kernel}"]`).click();
    await page.waitForURL((u) => u.searchParams.get("kernel") === kernel);
    await poll(() => page.getByTestId("hosts-range").textContent()).toMatch(new RegExp(`of\\s*${count} hosts`));
    const cells = await page.locator("tbody tr td:nth-child(3)").allTextContents();
    expect(cells.length).toBe(count);
    expect(new Set(cells)).toEqual(new Set([kernel]));

    // Search narrows further; the URL carries both, so a reload (or a shared link) shows the same rows.
    const target = (await getJson<HostList>(`/api/v1/hosts?kernel=${encodeURIComponent(kernel)}&limit=1`)).items[0];
    await page.getByTestId("hosts-search").fill(target.hostname);
    await page.waitForURL((u) => u.searchParams.get("q") === target.hostname && u.searchParams.get("kernel") === kernel);
    await poll(() => page.getByTestId("host-link").allTextContents()).toEqual([target.hostname]);
    await page.reload();
    await poll(() => page.getByTestId("host-link").allTextContents()).toEqual([target.hostname]);

    // State and label filters come from the URL as well.
    await page.goto("/hosts?status=revoked");
    await poll(() => page.getByTestId("hosts-range").textContent()).toMatch(/of\s*1 hosts/);
    const env = target.labels.env;
    const withEnv = (await getJson<HostList>(`/api/v1/hosts?label=${encodeURIComponent(`env=${env}`)}`)).total;
    await page.goto(`/hosts?label=${encodeURIComponent(`env=${env}`)}`);
    await poll(() => page.getByTestId("hosts-range").textContent()).toMatch(new RegExp(`of\\s*${withEnv} hosts`));
    await page.getByRole("button", { name: `Remove label filter env=${env}` }).click();
    await page.waitForURL((u) => !u.searchParams.has("label"));
  });

  it("finds a host from the top-bar search with the keyboard, shows its livepatches and timeline, and edits its labels", async () => {
    await page.goto("/fleet");
    await waitLive(page);
    await page.keyboard.press("/");
    await page.keyboard.type("e2e-live");
    await page.getByRole("option", { name: /e2e-live-01/ }).waitFor();
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await page.waitForURL(`**/hosts/${liveHost.id}`);
    await poll(() => page.getByTestId("host-title").textContent()).toBe("e2e-live-01");
    expect(await page.getByTestId("host-livepatches").textContent()).toContain("livepatch_cve_2024_1086");
    await poll(() => page.locator('[data-testid="host-timeline"] [data-event]').evaluateAll((els) => els.map((e) => e.getAttribute("data-event")))).toEqual(
      expect.arrayContaining(["enrolled", "connected"]),
    );

    await page.getByRole("button", { name: "Edit labels" }).click();
    await page.getByLabel("Label 1 key").fill("env");
    await page.getByLabel("Label 1 value").fill("prod");
    await page.getByRole("button", { name: "Add label" }).click();
    await page.getByLabel("Label 2 key").fill("team");
    await page.getByLabel("Label 2 value").fill("kernel");
    await page.getByRole("button", { name: "Save labels" }).click();
    await poll(() => page.getByTestId("host-labels").textContent()).toBe("env=prodteam=kernel");
    await poll(() => page.locator('[data-testid="host-timeline"] [data-event]').first().getAttribute("data-event")).toBe("labels_changed");
    const detail = await getJson<Host>(`/api/v1/hosts/${liveHost.id}`);
    expect(detail.labels).toEqual({ env: "prod", team: "kernel" });
  });

  it("creates an enrollment token with install instructions, and verifies the audit chain", async () => {
    await page.goto("/hosts/add");
    await page.getByTestId("create-enrollment-token").click();
    const secret = (await page.getByTestId("new-token-secret").textContent({ timeout: 10_000 }))!.trim();
    expect(secret.length).toBeGreaterThan(16);
    // The Debian package first (nothing else needed on the host), the Node.js bundle as a systemd service second.
    const deb = await page.getByTestId("install-debian").textContent();
    expect(deb).toContain(`${c.url}/api/v1/agent/package`);
    expect(deb).toContain(`'${secret}'`);
    await page.getByRole("tab", { name: "systemd service" }).click();
    const script = await page.getByTestId("install-systemd").textContent();
    expect(script).toContain(`${c.url}/api/v1/agent/bundle`);
    expect(script).toContain(`SPLICER_ENROLL_TOKEN=${secret}`);

    await page.goto("/audit");
    await poll(() => page.getByTestId("audit-verify").getAttribute("data-ok")).toBe("true");
    await poll(() => page.locator("tbody").textContent()).toContain("host.labels_updated");
  });

  it("takes screenshots of every page in the light and dark themes", async () => {
    const shots: [string, string][] = [
      ["fleet", "/fleet"],
      ["hosts", "/hosts"],
      ["host-detail", `/hosts/${liveHost.id}`],
      ["add-hosts", "/hosts/add"],
      ["audit", "/audit"],
      ["settings", "/settings"],
      ["settings-operators", "/settings?tab=operators"],
      ["settings-api-tokens", "/settings?tab=api-tokens"],
    ];
    for (const theme of ["light", "dark"] as const) {
      const p = await newPage(theme);
      await p.goto("/login");
      await p.waitForLoadState("networkidle");
      await p.screenshot({ path: path.join(SHOTS, `login-${theme}.png`) });
      await signIn(p, "/fleet");
      for (const [name, url] of shots) {
        await p.goto(url);
        await waitLive(p);
        // Data, charts and fonts in place; no skeletons left.
        await p.waitForLoadState("networkidle");
        await p.waitForFunction(() => document.querySelectorAll(".animate-pulse").length === 0, undefined, { timeout: 15_000 });
        if (name === "add-hosts") {
          // The page as an admin sees it mid-task: a fresh token filled into the install commands.
          await p.getByTestId("create-enrollment-token").click();
          await p.getByTestId("new-token-secret").waitFor();
        }
        await p.mouse.move(0, VIEWPORT.height - 1);
        await p.screenshot({ path: path.join(SHOTS, `${name}-${theme}.png`), fullPage: ["fleet", "host-detail", "add-hosts"].includes(name) });
      }
    }
    for (const name of ["login", "fleet", "hosts", "host-detail", "add-hosts", "audit", "settings"]) {
      for (const theme of ["light", "dark"]) expectScreenshot(path.join(SHOTS, `${name}-${theme}.png`));
    }
  });

  it("no page, in either theme, broke its Content Security Policy (scripts, styles, the live socket)", async () => {
    // Every page above ran under the console's nonce policy; the live connection worked (waitLive).
    const page = await newPage("dark");
    await signIn(page, "/fleet");
    await waitLive(page);
    expect(await page.evaluate(() => document.documentElement.classList.contains("dark"))).toBe(true);
    expect(cspViolations).toEqual([]);
  });
});
