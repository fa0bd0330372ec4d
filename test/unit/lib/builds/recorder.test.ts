import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { retryDelayMs } from "@/lib/builds/queue";
import { workerOnline } from "@/lib/builds/query";
import { artifactProblem } from "@/lib/builds/recorder";

const bytes = Buffer.from("\x7fELF a livepatch module");
const sha = crypto.createHash("sha256").update(bytes).digest("hex");
const ok = { artifactSha256: sha, artifactSize: bytes.length, moduleName: "livepatch_6f1a2b" };

describe("what a console checks before signing a worker's artifact", () => {
  it.each([
    ["the artifact as the worker said", ok, bytes, null],
    ["no row in the database", ok, null, `artifact ${sha} is not in the database`],
    ["other bytes under the hash", ok, Buffer.from("something else"), /^the stored artifact hashes to [0-9a-f]{64}, not /],
    ["the wrong size", { ...ok, artifactSize: bytes.length + 1 }, bytes, `the stored artifact has ${bytes.length} bytes, not ${bytes.length + 1} as its build says`],
    ["a hash that is not one", { ...ok, artifactSha256: sha.toUpperCase() }, bytes, /no valid artifact hash/],
    ["a module name with a path in it", { ...ok, moduleName: "../evil" }, bytes, /is not a kernel module name/],
    ["a module name too long for the kernel", { ...ok, moduleName: "m".repeat(56) }, bytes, /is not a kernel module name/],
  ])("%s", (_what, result, content, problem) => {
    const got = artifactProblem(result, content);
    if (problem === null) expect(got).toBeNull();
    else expect(got).toMatch(problem);
  });
});

describe("retrying after an infrastructure error", () => {
  it.each([
    [1, 5_000],
    [2, 10_000],
    [4, 40_000],
    [7, 300_000],
    [1000, 300_000],
  ])("attempt %i waits %i ms", (attempt, ms) => expect(retryDelayMs(attempt)).toBe(ms));
});

describe("a build worker is online", () => {
  const now = new Date("2026-12-10T12:00:00Z");
  const at = (s: number) => new Date(now.getTime() + s * 1000);
  it.each([
    ["heartbeat horizon ahead", { aliveUntil: at(5), stoppedAt: null }, true],
    ["horizon passed: died", { aliveUntil: at(-1), stoppedAt: null }, false],
    ["horizon exactly now", { aliveUntil: at(0), stoppedAt: null }, false],
    ["stopped cleanly", { aliveUntil: at(5), stoppedAt: at(-2) }, false],
  ])("%s", (_what, w, online) => expect(workerOnline(w, now)).toBe(online));
});
