// The Patches section in a real browser (Debian's Chromium driven by playwright-core) against a
// real console process: stage a patch by pasting a diff and by uploading a file, see the
// analysis on the patch page, watch the build matrix fill live and open a build log, rebuild a
// failed build, see a refused diff explained, watch a patch staged elsewhere
// appear without a reload; and screenshots of the list and a patch in both themes.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetSummary, PatchDetail, PatchSummary } from "@/lib/api/schemas";
import type { Fleet } from "@/agent/sim/fleet";
import { closeBrowserTest, SHOTS, VIEWPORT, expectScreenshot, cspViolations, haveBrowser, launchBrowser, openPage, signInAsAdmin, waitLive, poll, slowPoll } from "../helpers/browser";
import { startSimulatedFleet, startTestConsole, type TestConsole, getJson as getJsonAs } from "../helpers/console";
import { diffFixture } from "../helpers/fixtures";

const FLEET_SIZE = 12;


let c: TestConsole;
let fleet: Fleet | undefined;
let browser: Browser;
const contexts: BrowserContext[] = [];


const getJson = <T,>(p: string): Promise<T> => getJsonAs<T>(c, p);

const newPage = (colorScheme: "light" | "dark" = "light"): Promise<Page> => openPage(browser, c.url, contexts, colorScheme);

const signIn = (page: Page, next = "/patches"): Promise<void> => signInAsAdmin(page, c.adminPassword, next);


async function stageViaApi(title: string, diffName: string, extra: Record<string, unknown> = {}): Promise<PatchDetail> {
  const r = await c.api("/api/v1/patches", { method: "POST", json: { title, diff: diffFixture(diffName), severity: "medium", ...extra } });
  if (!r.ok) throw new Error(`stage ${diffName}: ${r.status} ${await r.text()}`);
  return (await r.json()) as PatchDetail;
}

beforeAll(async () => {
  if (!haveBrowser) return;
  c = await startTestConsole();
  // A small fleet, so the stage form has kernel releases to offer.
  fleet = await startSimulatedFleet(c, { agents: FLEET_SIZE, seed: "e2e-patches" });
  browser = await launchBrowser();
});

afterAll(() => closeBrowserTest({ contexts, browser, stop: [fleet, c] }));

describe.skipIf(!haveBrowser)("patches in a browser", () => {
  let page: Page;
  let cmdline: PatchDetail;
  let skbuff: PatchDetail;

  it("shows an empty list that says what to do next", async () => {
    page = await newPage();
    await signIn(page, "/patches");
    await page.getByText("No patches staged yet").waitFor();
    await page.getByRole("link", { name: "Stage a patch" }).click();
    await page.waitForURL("**/patches/new");
  });

  it("stages a pasted diff and lands on its page: hot-patchable, the changed function named", async () => {
    await page.fill("#patch-title", "proc: show a marker after the command line");
    await page.fill("#patch-description", "Lets operators tell a live-patched kernel from a rebooted one.");
    await page.fill("#patch-cves", "cve-2026-10001, CVE-2026-10002 ");
    await poll(() => page.getByTestId("cve-chips").textContent()).toBe("CVE-2026-10001CVE-2026-10002");
    await page.getByRole("combobox", { name: "Severity" }).click();
    await page.locator('[role=option][data-value="critical"]').click();
    await page.getByTestId("diff-input").fill(diffFixture("function-only-cmdline.diff"));
    await page.getByTestId("stage-submit").click();

    await page.waitForURL(/\/patches\/[0-9a-f-]{36}$/);
    await poll(() => page.getByTestId("patch-title").textContent()).toBe("proc: show a marker after the command line");
    expect(await page.getByTestId("verdict").first().getAttribute("data-verdict")).toBe("hot-patchable");
    expect(await page.getByTestId("verdict-title").textContent()).toBe("hot-patchable");
    expect(await page.getByTestId("severity").first().getAttribute("data-severity")).toBe("critical");
    expect(await page.getByTestId("patch-files").textContent()).toContain("cmdline_proc_show");
    expect(await page.getByTestId("changed-function").first().textContent()).toMatch(/cmdline_proc_show\s*modified/);
    // The diff is rendered with its added and removed lines told apart.
    expect(await page.locator('[data-testid="diff-view"] tr[data-kind="add"]').count()).toBe(3);
    expect(await page.locator('[data-testid="diff-view"] tr[data-kind="del"]').count()).toBe(2);
    // Builds, once per kernel release of the fleet, show up on the page as they are made.
    const releases = new Set((await getJson<FleetSummary>("/api/v1/fleet/summary")).kernels.map((k) => k.kernelRelease));
    // The build matrix: one row per kernel release of the fleet, and every build turns
    // "succeeded" without a reload (the socket's "builds:changed" refetches the page's data).
    await page.evaluate(() => ((window as unknown as { __marker: number }).__marker = 7));
    await poll(() => page.getByTestId("build-row").count()).toBe(releases.size);
    expect(new Set(await page.getByTestId("build-row").evaluateAll((els) => els.map((e) => e.getAttribute("data-release"))))).toEqual(releases);
    await slowPoll(() => page.getByTestId("build-row").evaluateAll((els) => els.map((e) => e.getAttribute("data-status")))).toEqual(
      [...releases].map(() => "succeeded"),
    );
    expect(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker)).toBe(7);
    expect(await page.getByTestId("artifact-sha").count()).toBe(releases.size);
    // A build's log opens in a dialog, status at the top.
    await page.getByTestId("build-open-log").first().click();
    await poll(() => page.getByTestId("build-log").textContent()).toContain("signed");
    expect(await page.getByTestId("build-log-status").getAttribute("data-status")).toBe("succeeded");
    await page.keyboard.press("Escape");
    await page.getByTestId("build-log").waitFor({ state: "detached" });

    const id = new URL(page.url()).pathname.split("/").pop()!;
    cmdline = await getJson<PatchDetail>(`/api/v1/patches/${id}`);
    expect(cmdline.cves).toEqual(["CVE-2026-10001", "CVE-2026-10002"]);
    expect(await page.getByTestId("diff-sha256").textContent()).toBe(cmdline.diffSha256);
  });

  it("stages an uploaded .diff file for one kernel release and explains why it needs a reboot", async () => {
    const release = (await getJson<FleetSummary>("/api/v1/fleet/summary")).kernels[0].kernelRelease;
    await page.goto("/patches/new");
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "splicer-e2e-diff-")), "skbuff-livepatched.diff");
    fs.writeFileSync(file, diffFixture("struct-field-skbuff.diff"));
    await page.getByTestId("diff-file").setInputFiles(file);
    await poll(() => page.getByTestId("diff-source").textContent()).toContain("skbuff-livepatched.diff");
    expect(await page.getByTestId("diff-input").inputValue()).toBe(diffFixture("struct-field-skbuff.diff"));
    await page.fill("#patch-title", "skbuff: mark live-patched buffers");
    await page.fill("#patch-cves", "CVE-2026-20002");
    await page.getByLabel("Only these releases").check();
    await page.locator("[data-testid=release-choices] label", { hasText: release }).locator("input").check();
    await page.getByTestId("stage-submit").click();

    await page.waitForURL(/\/patches\/[0-9a-f-]{36}$/);
    await poll(() => page.getByTestId("verdict-title").textContent()).toBe("requires-reboot");
    const reasons = page.locator('[data-testid="verdict-reasons"] [data-testid="finding"]');
    await poll(() => reasons.count()).toBeGreaterThan(0);
    expect(await reasons.first().getAttribute("data-impact")).toBe("reboot");
    expect(await page.getByTestId("verdict-reasons").textContent()).toMatch(/struct sk_buff/);
    expect(await page.getByTestId("verdict-reasons").textContent()).toContain("include/linux/skbuff.h");
    const id = new URL(page.url()).pathname.split("/").pop()!;
    skbuff = await getJson<PatchDetail>(`/api/v1/patches/${id}`);
    expect(skbuff.targetReleases).toEqual([release]);
    expect(skbuff.verdict).toBe("requires-reboot");

    // Its one build fails, with the reason on the page; "Rebuild" queues it again and it fails again.
    const row = page.getByTestId("build-row");
    await slowPoll(() => row.getAttribute("data-status")).toBe("failed");
    expect(await row.count()).toBe(1);
    expect(await row.getAttribute("data-release")).toBe(release);
    expect(await row.getByTestId("build-error").textContent()).toMatch(/cannot live-patch: .*struct sk_buff/);
    const queuedAt = await row.getAttribute("data-queued-at");
    // Watch the row's status from now on: the refused build fails again within milliseconds, so
    // the page may or may not catch it queued; the server's fresh queuedAt proves it was requeued.
    await row.evaluate((el) => {
      const w = window as unknown as { __seen: string[] };
      w.__seen = [];
      new MutationObserver(() => w.__seen.push(el.getAttribute("data-status") ?? "")).observe(el, { attributes: true, attributeFilter: ["data-status"] });
    });
    await row.getByTestId("rebuild").click();
    await slowPoll(() => row.getAttribute("data-queued-at")).not.toBe(queuedAt);
    await slowPoll(() => row.getAttribute("data-status")).toBe("failed");
    expect(await row.getByTestId("build-error").textContent()).toMatch(/cannot live-patch/);
    expect(await page.getByTestId("rebuild-error").count()).toBe(0);
    const after = await getJson<PatchDetail>(`/api/v1/patches/${id}`);
    expect(after.builds).toHaveLength(1);
    expect(after.builds[0].status).toBe("failed");
    expect(after.builds[0].queuedAt).not.toBe(skbuff.builds[0]?.queuedAt ?? "");
    // "Ensure builds" creates nothing when every target release has its build, and says so.
    await page.getByTestId("ensure-builds").click();
    await poll(() => page.getByTestId("ensure-result").textContent()).toMatch(/nothing created/);
  });

  it("explains a refused diff and a duplicate, and stores nothing", async () => {
    await page.goto("/patches/new");
    await page.fill("#patch-title", "not a patch");
    await page.getByTestId("diff-input").fill("Hello,\nplease apply the fix from the mailing list.\n");
    await page.getByTestId("stage-submit").click();
    await poll(() => page.getByTestId("stage-error").textContent()).toMatch(/not_a_diff.*not a unified diff/s);
    expect(page.url()).toMatch(/\/patches\/new$/);

    await page.getByTestId("diff-input").fill(diffFixture("function-only-cmdline.diff"));
    await page.getByTestId("stage-submit").click();
    await poll(() => page.getByTestId("stage-error").textContent()).toMatch(/duplicate_patch.*already staged/s);

    // A CVE id that is not one never reaches the server.
    await page.fill("#patch-cves", "CVE-2026-1 ");
    await page.getByTestId("stage-submit").click();
    await poll(() => page.getByText(/Not a CVE id: CVE-2026-1\b/).first().isVisible()).toBe(true);
    expect((await getJson<{ items: PatchSummary[] }>("/api/v1/patches")).items).toHaveLength(2);
  });

  it("lists both patches, and shows one staged elsewhere without a reload", async () => {
    await page.goto("/patches");
    await waitLive(page);
    await poll(() => page.getByTestId("patch-link").allTextContents()).toEqual(["skbuff: mark live-patched buffers", "proc: show a marker after the command line"]);
    const rows = page.locator("tbody tr");
    expect(await rows.nth(1).textContent()).toContain("CVE-2026-10001");
    expect(await rows.nth(1).textContent()).toContain("cmdline_proc_show");
    expect(await rows.nth(1).locator("[data-testid=verdict]").getAttribute("data-verdict")).toBe("hot-patchable");
    expect(await rows.nth(0).locator("[data-testid=verdict]").getAttribute("data-verdict")).toBe("requires-reboot");
    expect(await rows.nth(0).textContent()).toContain("admin");

    await page.evaluate(() => ((window as unknown as { __marker: number }).__marker = 42));
    await stageViaApi("igmp: add a bounds check", "bounds-check-ipv4.diff", { cves: ["CVE-2026-30003"], severity: "high" });
    await poll(() => page.getByTestId("patch-link").first().textContent()).toBe("igmp: add a bounds check");
    expect(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker)).toBe(42);
  });

  it("takes screenshots of the list and a patch in the light and dark themes", async () => {
    // A list with some variety: every verdict and severity.
    await stageViaApi("skbuff: fix the headroom check in an inline helper", "header-inline.diff", { cves: ["CVE-2026-40004"], severity: "medium" });
    await stageViaApi("docs: sysctl: net: clarify a tunable", "documentation-only.diff", { severity: "low" });
    for (const theme of ["light", "dark"] as const) {
      const p = await newPage(theme);
      await signIn(p, "/patches");
      for (const [name, url, full] of [
        ["patches-list", "/patches", false],
        ["patch-detail", `/patches/${cmdline.id}`, true],
        ["patch-detail-reboot", `/patches/${skbuff.id}`, true],
        ["patches-new", "/patches/new", false],
      ] as const) {
        await p.goto(url);
        await waitLive(p);
        await p.waitForLoadState("networkidle");
        await p.waitForFunction(() => document.querySelectorAll(".animate-pulse").length === 0, undefined, { timeout: 15_000 });
        if (name === "patches-new") {
          // The form as an operator sees it mid-task.
          await p.fill("#patch-title", "ipv4: honour a per-socket PMTU floor");
          await p.fill("#patch-cves", "CVE-2026-50005, CVE-2026-50006");
          await p.getByTestId("diff-input").fill(diffFixture("multi-file-mixed.diff"));
        }
        await p.mouse.move(0, VIEWPORT.height - 1);
        await p.screenshot({ path: path.join(SHOTS, `${name}-${theme}.png`), fullPage: full });
      }
    }
    for (const name of ["patches-list", "patches-new", "patch-detail", "patch-detail-reboot"]) {
      for (const theme of ["light", "dark"]) expectScreenshot(path.join(SHOTS, `${name}-${theme}.png`));
    }
  });

  it("says when a release's build overrules the staging preview, and not before", async () => {
    // The preview calls it needs-review (a function removed); the builder is the verdict that counts.
    const patch = await stageViaApi("net: drop an unused helper", "function-removed.diff");
    expect(patch.verdict).toBe("needs-review");
    await page.goto(`/patches/${patch.id}`);
    await waitLive(page);
    await poll(() => page.getByTestId("verdict-title").textContent()).toBe("needs-review");
    const releases = new Set((await getJson<FleetSummary>("/api/v1/fleet/summary")).kernels.map((k) => k.kernelRelease));
    await slowPoll(() => page.getByTestId("build-row").evaluateAll((els) => els.map((e) => e.getAttribute("data-status")))).toEqual([...releases].map(() => "succeeded"));
    const note = page.getByTestId("verdict-overruled");
    await poll(() => note.count()).toBe(1);
    expect(await note.textContent()).toContain(`The builds for ${releases.size} releases made a live patch`);
    expect((await note.locator("span[title]").getAttribute("title"))?.split(", ").sort()).toEqual([...releases].sort());
    expect(await note.textContent()).toMatch(/can be patched live/);
    // A hot-patchable patch has nothing to overrule; a refused one has no build to cite.
    for (const id of [cmdline.id, skbuff.id]) {
      await page.goto(`/patches/${id}`);
      await waitLive(page);
      await page.getByTestId("build-row").first().waitFor();
      expect(await page.getByTestId("verdict-overruled").count()).toBe(0);
    }
  });

  it("shows, per build, the earlier patch a later fix of the same function was built on, linking to it", async () => {
    const later = await stageViaApi("proc: another cmdline marker", "cmdline-marker.diff");
    await page.goto(`/patches/${later.id}`);
    await waitLive(page);
    const releases = new Set((await getJson<FleetSummary>("/api/v1/fleet/summary")).kernels.map((k) => k.kernelRelease));
    await slowPoll(() => page.getByTestId("build-row").evaluateAll((els) => els.map((e) => e.getAttribute("data-status")))).toEqual([...releases].map(() => "succeeded"));
    const includes = page.getByTestId("build-includes");
    await poll(() => includes.count()).toBe(releases.size);
    for (const text of await includes.allTextContents()) expect(text).toBe(`built on ${cmdline.title} (both change cmdline_proc_show): carries its fix, loads only where it is live`);
    expect(await includes.first().getByRole("link").getAttribute("href")).toBe(`/patches/${cmdline.id}`);
    await page.getByTestId("build-row").first().scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, "patch-built-on.png") });
    expectScreenshot(path.join(SHOTS, "patch-built-on.png"));

    // The earlier one turns out bad: withdrawn from its page, the later one is built again alone.
    await page.goto(`/patches/${cmdline.id}`);
    await waitLive(page);
    await page.getByTestId("withdraw-patch").click();
    expect(await page.getByTestId("withdraw-confirm").isDisabled()).toBe(true); // a reason is required
    await page.getByLabel(/Why/).fill("prints a marker tools do not expect");
    await page.getByTestId("withdraw-confirm").click();
    await poll(() => page.getByTestId("patch-withdrawn").textContent()).toMatch(/Withdrawn by admin .*: prints a marker tools do not expect/);
    expect(await page.getByTestId("patch-withdrawn-badge").count()).toBe(1);
    expect(await page.getByTestId("withdraw-patch").count()).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, "patch-withdrawn.png") });
    expectScreenshot(path.join(SHOTS, "patch-withdrawn.png"));
    await page.goto(`/patches/${later.id}`);
    await waitLive(page);
    await slowPoll(() => page.getByTestId("build-row").evaluateAll((els) => els.map((e) => e.getAttribute("data-status")))).toEqual([...releases].map(() => "succeeded"));
    await poll(() => page.getByTestId("build-includes").count()).toBe(0);
  });

  it("says an unknown patch, rollout, group or host does not exist, with the way back to its list", async () => {
    const missing = "00000000-0000-4000-8000-00000000dead";
    for (const [url, title, back, list] of [
      [`/patches/${missing}`, "No such patch", "All patches", "/patches"],
      [`/rollouts/${missing}`, "No such rollout", "All rollouts", "/rollouts"],
      [`/groups/${missing}`, "No such group", "All groups", "/groups"],
      [`/hosts/${missing}`, "Host not found", "Back to hosts", "/hosts"],
      ["/patches/not-a-uuid", "No such patch", "All patches", "/patches"],
    ] as const) {
      await page.goto(url);
      await page.getByText(title).waitFor();
      expect(await page.getByRole("link", { name: back }).getAttribute("href"), url).toBe(list);
    }
  });

  it("no page broke its Content Security Policy", () => {
    expect(cspViolations).toEqual([]);
  });
});
