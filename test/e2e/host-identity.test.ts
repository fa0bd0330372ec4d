// Host identity decisions in a real browser: a possible duplicate is shown on the hosts list and
// its page with Merge / Revoke for admins; a revoked host's page offers Restore (issue 9, item 1).
import os from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HostDetail } from "@/lib/api/schemas";
import { closeBrowserTest, haveBrowser, launchBrowser, openPage, poll, signInAsAdmin } from "../helpers/browser";
import { getJson, startTestConsole, type TestConsole } from "../helpers/console";

let c: TestConsole;
let browser: Browser;
const contexts: BrowserContext[] = [];
const SHOT_DIR = process.env.SPLICER_IDENTITY_SHOTS ?? os.tmpdir();
let original: { hostId: string };
let duplicate: { hostId: string };
let revoked: { hostId: string };

beforeAll(async () => {
  if (!haveBrowser) return;
  c = await startTestConsole();
  original = await c.enroll("db-prod-001.ams2", "abcdefabcdefabcdefabcdefabcdef01");
  duplicate = await c.enroll("db-prod-001.ams2", "abcdefabcdefabcdefabcdefabcdef01");
  revoked = await c.enroll("web-prod-007.fra1", "abcdefabcdefabcdefabcdefabcdef02");
  expect((await c.api(`/api/v1/hosts/${revoked.hostId}/revoke`, { method: "POST", json: { reason: "suspicious" }, headers: { origin: c.url } })).ok).toBe(true);
  browser = await launchBrowser();
}, 120_000);

afterAll(() => closeBrowserTest({ contexts, browser, stop: [c] }));

describe.skipIf(!haveBrowser)("host identity in the console", () => {
  let page: Page;

  it("the hosts list flags the possible duplicate, naming the host it duplicates, with Merge and Revoke", async () => {
    page = await openPage(browser, c.url, contexts);
    await signInAsAdmin(page, c.adminPassword, "/hosts");
    const flag = page.getByTestId("possible-duplicate");
    await poll(() => flag.count()).toBe(1);
    expect(await flag.textContent()).toContain("possible duplicate of db-prod-001.ams2");
    expect(await flag.getByRole("button", { name: "Merge" }).isVisible()).toBe(true);
    expect(await flag.getByRole("button", { name: "Revoke" }).isVisible()).toBe(true);
    await page.screenshot({ path: path.join(SHOT_DIR, "identity-hosts-list.png") });
  });

  it("the duplicate's page explains it; Merge (audited) folds it into the original", async () => {
    await page.goto(`/hosts/${duplicate.hostId}`);
    await poll(() => page.getByTestId("possible-duplicate").isVisible()).toBe(true);
    expect(await page.getByText(/enrolled with the machine id of db-prod-001.ams2 but without its credential/).isVisible()).toBe(true);
    await page.screenshot({ path: path.join(SHOT_DIR, "identity-duplicate.png") });
    await page.getByTestId("possible-duplicate").getByRole("button", { name: "Merge" }).click();
    await page.fill("#merge-reason", "reimaged, OPS-7");
    await page.getByRole("button", { name: "Merge host" }).click();
    await poll(() => page.getByText(/This host was merged into/).isVisible()).toBe(true);
    const dup = await getJson<HostDetail>(c, `/api/v1/hosts/${duplicate.hostId}`);
    expect(dup.mergedInto?.id).toBe(original.hostId);
    const audit = await c.db.query(`select 1 from "AuditEvent" where action = 'host.merged' and "targetId" = $1`, [original.hostId]);
    expect(audit).toHaveLength(1);
  });

  it("a revoked host's page offers Restore to an admin; restoring makes it active and is audited", async () => {
    await page.goto(`/hosts/${revoked.hostId}`);
    const restore = page.getByRole("button", { name: "Restore" });
    await poll(() => restore.isVisible()).toBe(true);
    await page.screenshot({ path: path.join(SHOT_DIR, "identity-revoked.png") });
    await restore.click();
    await page.fill("#restore-reason", "false alarm");
    await page.getByRole("button", { name: "Restore host" }).click();
    await poll(async () => (await getJson<HostDetail>(c, `/api/v1/hosts/${revoked.hostId}`)).status).toBe("active");
    await poll(() => restore.isVisible()).toBe(false);
    const audit = await c.db.query(`select 1 from "AuditEvent" where action = 'host.restored' and "targetId" = $1`, [revoked.hostId]);
    expect(audit).toHaveLength(1);
  });
});
