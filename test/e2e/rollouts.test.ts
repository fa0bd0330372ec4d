// Rollouts in a real browser (Debian's Chromium driven by playwright-core) against a real console
// process and real agents (simulate backend, two of them set to fail): an operator opens a group,
// presses Roll out once, sees the preview, adjusts the strategy (a nonsensical one is explained
// inline), confirms, watches the rollout page finish live, opens a failed host's log and rolls
// the rollout back; a viewer sees no Roll out button and the API refuses them. Screenshots of
// the groups, group, rollout, rollouts and exposure pages in both themes.
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Group, PatchDetail, RolloutDetail, RolloutSummary } from "@/lib/api/schemas";
import type { Fleet } from "@/agent/sim/fleet";
import { closeBrowserTest, SHOTS, VIEWPORT, expectScreenshot, cspViolations, haveBrowser, launchBrowser, openPage, waitLive, poll, slowPoll } from "../helpers/browser";
import { startSimulatedFleet, startTestConsole, type TestConsole, getJson as getJsonAs } from "../helpers/console";
import { diffFixture } from "../helpers/fixtures";

const FLEET_SIZE = 10;
const OPERATOR = { username: "olga", password: "operator-password-1" };
const VIEWER = { username: "vic", password: "viewer-password-1" };

let c: TestConsole;
let fleet: Fleet | undefined;
let browser: Browser;
const contexts: BrowserContext[] = [];


const getJson = <T,>(p: string): Promise<T> => getJsonAs<T>(c, p);

async function postJson<T>(p: string, json: unknown): Promise<T> {
  const r = await c.api(p, { method: "POST", json });
  if (!r.ok) throw new Error(`${p}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

const newPage = (colorScheme: "light" | "dark" = "light"): Promise<Page> => openPage(browser, c.url, contexts, colorScheme);

async function signInAs(page: Page, who: { username: string; password: string }, next: string): Promise<void> {
  await page.goto(next);
  await page.waitForURL(/\/login/);
  await page.fill("#username", who.username);
  await page.fill("#password", who.password);
  await page.click("button[type=submit]");
  await page.waitForURL((u) => u.pathname + u.search === next);
}

let patch: PatchDetail;
let group: Group;
/** Hosts told to fail every apply. */
let failing: string[] = [];

beforeAll(async () => {
  if (!haveBrowser) return;
  c = await startTestConsole();
  // Applies take a moment, so the page can be seen moving.
  fleet = await startSimulatedFleet(c, { agents: FLEET_SIZE, seed: "e2e-rollouts", applyMs: 400 });
  // Two hosts fail, never the canary (the planner's pick: most common kernel release, then hostname).
  const perRelease = new Map<string, number>();
  for (const a of fleet.agents) perRelease.set(a.profile.kernelRelease, (perRelease.get(a.profile.kernelRelease) ?? 0) + 1);
  const byCanaryOrder = [...fleet.agents].sort(
    (a, b) => perRelease.get(b.profile.kernelRelease)! - perRelease.get(a.profile.kernelRelease)! || (a.profile.hostname < b.profile.hostname ? -1 : 1),
  );
  for (const a of byCanaryOrder.slice(-2)) {
    a.kernel.setBehavior({ forceFailure: "refused" });
    failing.push(a.profile.hostname);
  }
  failing = failing.sort();

  for (const [who, role] of [[OPERATOR, "operator"], [VIEWER, "viewer"]] as const) {
    await postJson("/api/v1/operators", { ...who, role });
  }
  patch = await postJson<PatchDetail>("/api/v1/patches", {
    title: "proc: show a marker after the command line",
    diff: diffFixture("function-only-cmdline.diff"),
    severity: "critical",
    cves: ["CVE-2026-10001"],
  });
  // Staged patches that lack a CVE-fixing alternative make the exposure page worth a screenshot.
  await postJson("/api/v1/patches", {
    title: "igmp: add a bounds check",
    diff: diffFixture("bounds-check-ipv4.diff"),
    severity: "high",
    cves: ["CVE-2026-30003"],
  });
  group = await postJson<Group>("/api/v1/groups", { name: "e2e-fleet", description: "Every host of the test fleet", selector: { all: true } });
  browser = await launchBrowser();
}, 180_000);

afterAll(() => closeBrowserTest({ contexts, browser, stop: [fleet, c] }));

describe.skipIf(!haveBrowser)("rollouts in a browser", () => {
  let page: Page;
  let rollout: RolloutDetail;

  it("an operator rolls a patch out to a group with one click and a confirmation", async () => {
    page = await newPage();
    await signInAs(page, OPERATOR, `/groups/${group.id}`);
    await waitLive(page);
    await poll(() => page.getByTestId("group-title").textContent()).toBe("e2e-fleet");
    await poll(() => page.getByTestId("group-members-count").textContent()).toBe(String(FLEET_SIZE));
    const row = page.locator(`[data-testid=group-patch][data-patch="${patch.id}"]`);
    await row.getByTestId("roll-out").click();

    // The confirmation says what will happen before anything does.
    const preview = page.getByTestId("rollout-preview");
    await poll(() => preview.getByTestId("preview-to-patch").textContent()).toBe(String(FLEET_SIZE));
    expect(await preview.getByTestId("wave-sequence").textContent()).toMatch(/1 canary/);
    expect(await preview.getByTestId("preview-releases").locator("tr").count()).toBeGreaterThan(0);
    await poll(() => page.getByTestId("rollout-confirm").textContent()).toContain(`Roll out to ${FLEET_SIZE} hosts`);

    // A nonsensical strategy is explained next to its field and cannot be started.
    await page.getByTestId("strategy-toggle").click();
    await page.getByTestId("strategy-waves").fill("half");
    await poll(() => page.getByTestId("strategy-editor").textContent()).toMatch(/percentage \(e\.g\. "25%"\)|percentage looks like "25%"/);
    expect(await page.getByTestId("rollout-confirm").isDisabled()).toBe(true);
    // Two hosts will fail: tolerate exactly those, in waves of half the rest.
    await page.getByTestId("strategy-waves").fill("50%");
    await page.getByTestId("strategy-failureBudget").fill("2");
    await poll(() => page.getByTestId("strategy-editor").textContent()).not.toContain('"25%"');
    await poll(() => page.getByTestId("wave-sequence").textContent()).toMatch(/1 canary.*5.*4/s);
    await poll(() => page.getByTestId("rollout-confirm").isEnabled()).toBe(true);
    await page.getByTestId("rollout-confirm").click();

    await page.waitForURL(/\/rollouts\/[0-9a-f-]{36}$/);
    const id = new URL(page.url()).pathname.split("/").pop()!;
    rollout = await getJson<RolloutDetail>(`/api/v1/rollouts/${id}?hosts=none`);
    expect(rollout.createdBy).toBe(OPERATOR.username);
    expect(rollout.strategy.failureBudget).toBe(2);
    await poll(() => page.getByTestId("rollout-title").textContent()).toMatch(/Rollout \d+ · proc: show a marker.*→ e2e-fleet/);
  });

  it("shows the rollout finish live: wave bars, counts per state, every host's result", async () => {
    await page.evaluate(() => ((window as unknown as { __marker: number }).__marker = 7));
    await slowPoll(() => page.getByTestId("rollout-status").getAttribute("data-status")).toBe("completed");
    // No reload: the socket's "rollouts:changed" moved the page along.
    expect(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker)).toBe(7);
    await poll(() => page.getByTestId("count-succeeded").textContent()).toBe(String(FLEET_SIZE - 2));
    expect(await page.getByTestId("count-failed").textContent()).toBe("2");
    expect(await page.getByTestId("wave-bar").count()).toBe(3);
    expect(await page.getByTestId("wave-bar").first().textContent()).toContain("Canary");
    expect(await page.getByTestId("rollout-banner").textContent()).toContain("Completed with 2 failures");
    expect(await page.getByTestId("failure-budget").textContent()).toBe("2 of 2 used");
    // Problems first in the host table.
    const states = await page.getByTestId("rollout-hosts").getByTestId("host-state").evaluateAll((els) => els.map((e) => e.getAttribute("data-state")));
    expect(states.slice(0, 2)).toEqual(["failed", "failed"]);
    expect(states).toHaveLength(FLEET_SIZE);
  });

  it("filters the hosts to the failed ones and opens a failed host's log", async () => {
    await page.locator('[data-testid=state-chips] button[data-state="failed"]').click();
    await poll(() => page.getByTestId("rollout-host-link").allTextContents()).toEqual(failing);
    await page.getByTestId("open-host-log").first().click();
    const dialog = page.getByTestId("host-log-dialog");
    await poll(() => dialog.getAttribute("data-state")).toBe("failed");
    await poll(() => page.getByTestId("host-log").textContent()).toMatch(/received apply of livepatch_/);
    expect(await page.getByTestId("host-error").textContent()).toMatch(/\S/);
    await page.keyboard.press("Escape");
    await page.getByTestId("host-log").waitFor({ state: "detached" });
  });

  it("rolls the rollout back, as a rollout of its own that completes", async () => {
    await page.getByTestId("rollout-rollback").click();
    await page.fill("#rollout-reason", "e2e: take it back");
    await page.getByTestId("rollout-action-confirm").click();
    await page.waitForURL((u) => u.pathname.startsWith("/rollouts/") && !u.pathname.endsWith(rollout.id));
    await poll(() => page.getByTestId("rollout-relation").textContent()).toContain(`Rollback of rollout ${rollout.number}`);
    await slowPoll(() => page.getByTestId("rollout-status").getAttribute("data-status")).toBe("completed");
    // Reverted on every host where the patch went live.
    await poll(() => page.getByTestId("count-reverted").textContent()).toBe(String(FLEET_SIZE - 2));
    expect(await page.getByTestId("rollout-banner").textContent()).toContain("Rolled back");
    const back = await getJson<RolloutDetail>(`/api/v1/rollouts/${rollout.id}?hosts=none`);
    expect(back.rollbackId).toBe(new URL(page.url()).pathname.split("/").pop());
    await page.goto(`/rollouts/${rollout.id}`);
    await poll(() => page.getByTestId("rollout-relation").textContent()).toContain("Rolled back by rollout");
    expect(await page.getByTestId("rollout-rollback").count()).toBe(0);
    // The list shows both, the rollback marked.
    await page.goto("/rollouts");
    await poll(() => page.getByTestId("rollout-link").count()).toBe(2);
    expect(await page.locator("tbody tr").first().textContent()).toContain("rollback");
  });

  it("a viewer sees no Roll out button, and the API refuses a viewer's rollout", async () => {
    const v = await newPage();
    await signInAs(v, VIEWER, `/groups/${group.id}`);
    await poll(() => v.getByTestId("group-patch").count()).toBeGreaterThan(0);
    expect(await v.getByTestId("roll-out").count()).toBe(0);
    expect(await v.getByTestId("edit-group").count()).toBe(0);
    await v.goto(`/rollouts/${rollout.id}`);
    await poll(() => v.getByTestId("rollout-status").count()).toBe(1);
    for (const action of ["pause", "resume", "approve", "abort", "rollback"]) expect(await v.getByTestId(`rollout-${action}`).count()).toBe(0);
    const cookie = await c.login(VIEWER.username, VIEWER.password);
    const r = await c.api("/api/v1/rollouts", { method: "POST", cookie, json: { patchId: patch.id, groupId: group.id }, headers: { origin: c.url } });
    expect(r.status).toBe(403);
    expect((await getJson<{ items: RolloutSummary[] }>("/api/v1/rollouts")).items).toHaveLength(2);
  });

  it("takes screenshots of groups, a group, a rollout, rollouts and exposure in both themes", async () => {
    // A second rollout, paused for approval after its canary: the list and banner get variety.
    const igmp = (await getJson<{ items: PatchDetail[] }>("/api/v1/patches")).items.find((p) => p.title.startsWith("igmp"))!;
    const paused = await postJson<RolloutSummary>("/api/v1/rollouts", { patchId: igmp.id, groupId: group.id, strategy: { pauseAfterCanary: true, failureBudget: 2 } });
    await slowPoll(async () => (await getJson<RolloutSummary>(`/api/v1/rollouts/${paused.id}?hosts=none`)).pauseKind).toBe("approval");

    for (const theme of ["light", "dark"] as const) {
      const p = await newPage(theme);
      await signInAs(p, OPERATOR, "/groups");
      for (const [name, url] of [
        ["groups", "/groups"],
        ["group", `/groups/${group.id}`],
        ["rollout", `/rollouts/${rollout.id}`],
        ["rollout-paused", `/rollouts/${paused.id}`],
        ["rollouts", "/rollouts"],
        ["exposure", "/exposure"],
      ] as const) {
        await p.goto(url);
        await waitLive(p);
        await p.waitForLoadState("networkidle");
        await p.waitForFunction(() => document.querySelectorAll(".animate-pulse.rounded").length === 0, undefined, { timeout: 15_000 }).catch(() => undefined);
        await p.mouse.move(0, VIEWPORT.height - 1);
        await p.screenshot({ path: path.join(SHOTS, `${name}-${theme}.png`), fullPage: name === "rollout" || name === "group" });
      }
    }
    for (const name of ["groups", "group", "rollout", "rollout-paused", "rollouts", "exposure"]) {
      for (const theme of ["light", "dark"]) expectScreenshot(path.join(SHOTS, `${name}-${theme}.png`));
    }
  });

  it("no page broke its Content Security Policy", () => {
    expect(cspViolations).toEqual([]);
  });
});
