// Debian's Chromium driven by playwright-core, for the browser tests: launch, pages in a theme,
// sign-in, and waiting for the live connection. In CI a missing browser fails the run.
import { expect } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { ROOT } from "./console";

export const CHROMIUM = process.env.SPLICER_CHROMIUM ?? "/usr/bin/chromium";
export const haveBrowser = fs.existsSync(CHROMIUM);
if (!haveBrowser && process.env.CI === "true") {
  // Never let CI go green by skipping the browser.
  throw new Error(`CI=true but no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
}
/**
 * Where the browser tests write their screenshots: a scratch directory during `npm test`, the
 * tracked docs/screenshots only with `npm run screenshots` (SPLICER_SCREENSHOTS_DIR).
 */
export const SHOTS = process.env.SPLICER_SCREENSHOTS_DIR ? path.resolve(ROOT, process.env.SPLICER_SCREENSHOTS_DIR) : path.join(os.tmpdir(), "splicer-screenshots");

/**
 * A screenshot was written as a real page: a PNG of the viewport's width (at least its height),
 * and not next to empty (a blank page compresses to a few kilobytes).
 */
export function expectScreenshot(file: string): void {
  const png = fs.readFileSync(file);
  expect(png.subarray(1, 4).toString("latin1"), file).toBe("PNG");
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  expect({ file, width }).toEqual({ file, width: VIEWPORT.width });
  expect(height, file).toBeGreaterThanOrEqual(VIEWPORT.height);
  expect(png.length, file).toBeGreaterThan(10_000);
}
export const VIEWPORT = { width: 1440, height: 900 };

export async function launchBrowser(): Promise<Browser> {
  fs.mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Without the background-networking flags Chromium keeps dialling Google's hosts, refused here.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/**
 * Every Content Security Policy violation any page of this test run reported (the browser's own
 * console message and the page's `securitypolicyviolation` event). A browser test asserts it is
 * empty: the policy must never block the console's own scripts, styles or connections.
 */
export const cspViolations: string[] = [];

/** A page in its own context (own cookies), in the given colour scheme; `contexts` collects them for closing. */
export async function openPage(browser: Browser, baseURL: string, contexts: BrowserContext[], colorScheme: "light" | "dark" = "light"): Promise<Page> {
  const ctx = await browser.newContext({ viewport: VIEWPORT, colorScheme, baseURL, reducedMotion: "reduce" });
  contexts.push(ctx);
  await ctx.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(`[csp-violation] ${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`),
    );
  });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => console.error(`[browser] ${e.message}`));
  page.on("console", (m) => {
    const text = m.text();
    if (m.type() === "error" && (text.startsWith("[csp-violation]") || /Content Security Policy/i.test(text))) cspViolations.push(`${page.url()}: ${text}`);
  });
  return page;
}

/** Opens `next` signed out, is sent to the login page, signs in as admin and lands on `next`. */
export async function signInAsAdmin(page: Page, password: string, next: string): Promise<void> {
  await page.goto(next);
  await page.waitForURL(/\/login/);
  await page.fill("#username", "admin");
  await page.fill("#password", password);
  await page.click("button[type=submit]");
  await page.waitForURL((u) => u.pathname + u.search === next);
}

/** The console's socket to /ui is up: from here on, changes arrive without a reload. */
export async function waitLive(page: Page): Promise<void> {
  await page.locator('[data-testid="live-status"][data-status="live"]').waitFor({ timeout: 15_000 });
}

/** Waits for the page (or the API) to show something; the machine is busy (console, agents, browser on two cores). */
export const poll = <T,>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000, interval: 100 });
/** Builds and rollouts run from queues: give them longer. */
export const slowPoll = <T,>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 60_000, interval: 200 });

/**
 * A browser test's afterAll: closes the pages' contexts and the browser, then stops the rest
 * (agents, fleet, console: whatever of them was started) in the order given.
 */
export async function closeBrowserTest(o: { contexts: BrowserContext[]; browser: Browser | undefined; stop: ({ stop(): Promise<void> } | undefined)[] }): Promise<void> {
  for (const ctx of o.contexts) await ctx.close().catch(() => undefined);
  await o.browser?.close();
  for (const x of o.stop) await x?.stop();
}
