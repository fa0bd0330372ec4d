// Drift in a real browser against a real console and real agents (simulate backend): after a
// rollout, one host loses its patch by hand and another reboots and reloads it. The overview
// counts the drifting host, the hosts list filters and badges it, its page says why and offers
// Re-apply, and re-applying puts the patch back (the page turns to "in sync" live).
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Fleet } from "@/agent/sim/fleet";
import type { Group, PatchDetail, RolloutDetail, RolloutSummary } from "@/lib/api/schemas";
import { livepatchModuleName } from "@/lib/livepatch/module-name";
import { closeBrowserTest, expectScreenshot, haveBrowser, launchBrowser, openPage, poll, SHOTS, slowPoll, waitLive } from "../helpers/browser";
import { eventually, expectJson, startSimulatedFleet, startTestConsole, type TestConsole } from "../helpers/console";
import { diffFixture } from "../helpers/fixtures";

let c: TestConsole;
let fleet: Fleet | undefined;
let browser: Browser;
const contexts: BrowserContext[] = [];
let patch: PatchDetail;

const post = (p: string, json: unknown = {}) => c.api(p, { method: "POST", json });

beforeAll(async () => {
  if (!haveBrowser) return;
  c = await startTestConsole({ env: { SPLICER_SIMULATE_BUILD_MS: "100" } });
  fleet = await startSimulatedFleet(c, { agents: 3, seed: "e2e-drift" });
  const group = await expectJson<Group>(await post("/api/v1/groups", { name: "all", selector: { all: true } }), 201);
  patch = await expectJson<PatchDetail>(await post("/api/v1/patches", { title: "proc: mark the command line", severity: "high", cves: ["CVE-2026-0101"], diff: diffFixture("function-only-cmdline.diff") }));
  const r = await expectJson<RolloutSummary>(await post("/api/v1/rollouts", { patchId: patch.id, groupId: group.id, strategy: { canary: 0, waves: 1 } }), 201);
  await eventually(async () => ((await expectJson<RolloutDetail>(await c.api(`/api/v1/rollouts/${r.id}`))).status === "completed" ? true : null), { what: "the rollout", timeoutMs: 60_000 });
  // One host loses the patch by hand; another reboots and its agent reloads it.
  fleet.agents[0]!.kernel.setLivepatches([]);
  await fleet.agents[0]!.agent.refreshInventory(true);
  await fleet.agents[1]!.reboot();
  browser = await launchBrowser();
}, 180_000);

afterAll(() => closeBrowserTest({ contexts, browser, stop: [fleet, c] }));

describe.skipIf(!haveBrowser)("drift in a browser", () => {
  let page: Page;

  it("the overview counts the drifting host and the hosts list filters and badges it", async () => {
    page = await openPage(browser, c.url, contexts);
    await page.goto("/login");
    await page.fill("#username", "admin");
    await page.fill("#password", c.adminPassword);
    await page.click("button[type=submit]");
    await page.waitForURL((u) => u.pathname === "/fleet");
    await waitLive(page);
    await poll(() => page.getByTestId("stat-drifting").textContent()).toBe("1");
    await page.getByTestId("stat-drifting").click();
    await page.waitForURL((u) => u.search === "?drifting=true");
    await poll(() => page.getByTestId("host-link").allTextContents()).toEqual([fleet!.agents[0]!.profile.hostname]);
    expect(await page.getByTestId("host-drift").count()).toBe(1);
    await expect(page.getByTestId("filter-drifting").isVisible()).resolves.toBe(true);
  });

  it("the host's page says what is missing and why, and Re-apply puts it back, live", async () => {
    await page.getByTestId("host-link").first().click();
    await page.waitForURL(/\/hosts\/[0-9a-f-]{36}/);
    const item = page.getByTestId("drift-missing");
    await poll(() => item.getAttribute("data-cause")).toBe("removed");
    expect(await item.textContent()).toContain(livepatchModuleName(patch.id));
    expect(await item.textContent()).toMatch(/taken out since it was applied/);
    await page.screenshot({ path: path.join(SHOTS, "host-drift-light.png"), fullPage: true });
    expectScreenshot(path.join(SHOTS, "host-drift-light.png"));

    await page.getByTestId("host-reapply").click();
    await slowPoll(() => page.getByTestId("host-drift-none").isVisible()).toBe(true);
    expect(await page.getByTestId("host-drift-badge").count()).toBe(0);
  });

  it("a host that rebooted and reloaded its patch shows the reload and no drift", async () => {
    const id = fleet!.agents[1]!.agent.hostId!;
    await page.goto(`/hosts/${id}`);
    await poll(() => page.getByTestId("host-reload").textContent()).toMatch(/loaded 1 of 1 kept patch again before connecting/);
    expect(await page.getByTestId("host-drift-none").isVisible()).toBe(true);
    await poll(() => page.locator('[data-testid="host-timeline"] [data-event="reloaded"]').count()).toBe(1);
  });
});
