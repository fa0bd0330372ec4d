// The release lock: one holder at a time, waiters take it when it is released, a lock whose
// process is gone is taken over, one whose process lives is not.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireLock } from "@/lib/builds/release/lock";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-lock-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const signal = () => new AbortController().signal;

describe("release lock", () => {
  it("lets one holder in at a time; the next gets it on release", async () => {
    const lockDir = path.join(dir, "a.lock");
    const first = await acquireLock({ lockDir, signal: signal() });
    let waitedFor: string | undefined;
    let secondHeld = false;
    const second = acquireLock({ lockDir, signal: signal(), onWait: (o) => (waitedFor = o) }).then((l) => {
      secondHeld = true;
      return l;
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect(secondHeld).toBe(false);
    expect(waitedFor).toContain(`pid ${process.pid}`);
    await first.release();
    const l2 = await second;
    expect(secondHeld).toBe(true);
    await l2.release();
    expect(fs.existsSync(lockDir)).toBe(false);
  });

  it("takes over a lock whose process is gone", async () => {
    const lockDir = path.join(dir, "b.lock");
    const child = spawn("true");
    await new Promise((r) => child.on("exit", r));
    fs.mkdirSync(lockDir);
    fs.writeFileSync(path.join(lockDir, "owner.json"), JSON.stringify({ pid: child.pid, host: os.hostname(), since: "earlier" }));
    const started = Date.now();
    const l = await acquireLock({ lockDir, signal: signal() });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(JSON.parse(fs.readFileSync(path.join(lockDir, "owner.json"), "utf8")).pid).toBe(process.pid);
    await l.release();
  });

  it("does not take a lock whose process lives; gives up when aborted", async () => {
    const lockDir = path.join(dir, "c.lock");
    const child = spawn("sleep", ["30"]);
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, "owner.json"), JSON.stringify({ pid: child.pid, host: os.hostname(), since: "now" }));
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 2500);
      await expect(acquireLock({ lockDir, signal: ac.signal })).rejects.toThrow(/aborted/);
      expect(JSON.parse(fs.readFileSync(path.join(lockDir, "owner.json"), "utf8")).pid).toBe(child.pid);
    } finally {
      child.kill();
    }
  });

  it("two waiters on one stale lock: exactly one holds it at a time", async () => {
    const lockDir = path.join(dir, "d.lock");
    fs.mkdirSync(lockDir);
    fs.writeFileSync(path.join(lockDir, "owner.json"), JSON.stringify({ pid: 2 ** 22 + 7, host: os.hostname(), since: "earlier" }));
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      [0, 1, 2].map(async () => {
        const l = await acquireLock({ lockDir, signal: signal() });
        inside++;
        maxInside = Math.max(maxInside, inside);
        await new Promise((r) => setTimeout(r, 300));
        inside--;
        await l.release();
      }),
    );
    expect(maxInside).toBe(1);
  });
});
