import "server-only";
// One preparation of a release at a time, across builds of one process and processes of one
// machine (or sharing one cache directory). The lock is a directory (mkdir is atomic) holding
// owner.json {pid, host, start time}; its holder touches it every HEARTBEAT_MS. A lock is stale when
// its process is gone (same host: no such pid, or a pid reused by a younger process) or its
// heartbeat stopped. Taking over a stale lock goes through a second directory, so that two waiters
// cannot both remove it and both think they hold the new one.
import { readFileSync } from "node:fs";
import { mkdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { errorCode, isNotFound } from "@/lib/files";
import { aborted } from "./exec";

const HEARTBEAT_MS = 10_000;
const STALE_AFTER_MS = 120_000;
const POLL_MS = 1_000;

interface Owner {
  pid: number;
  host: string;
  /** Start time of the process (/proc/<pid>/stat field 22), to tell a reused pid. */
  start?: string;
  since: string;
}

export interface LockOptions {
  lockDir: string;
  signal: AbortSignal;
  /** Called once when the lock is held by someone else and we wait. */
  onWait?: (owner: string) => void;
}

export interface HeldLock {
  release(): Promise<void>;
}

function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function alive(owner: Owner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if (errorCode(err) === "ESRCH") return false;
  }
  const start = processStart(owner.pid);
  return owner.start === undefined || start === undefined || start === owner.start;
}

async function readOwner(dir: string): Promise<{ owner?: Owner; ageMs: number } | undefined> {
  const file = path.join(dir, "owner.json");
  try {
    const [text, st] = await Promise.all([readFile(file, "utf8"), stat(file)]);
    return { owner: JSON.parse(text) as Owner, ageMs: Date.now() - st.mtimeMs };
  } catch (err) {
    if (!isNotFound(err) && !(err instanceof SyntaxError)) throw err;
    // Just created, owner not written yet (or the holder died right then): judge by the directory.
    try {
      return { ageMs: Date.now() - (await stat(dir)).mtimeMs };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }
}

function isStale(found: { owner?: Owner; ageMs: number }): boolean {
  if (found.ageMs > STALE_AFTER_MS) return true;
  const o = found.owner;
  return o !== undefined && o.host === os.hostname() && !alive(o);
}

function describe(o: Owner | undefined): string {
  return o ? `pid ${o.pid} on ${o.host} since ${o.since}` : "a process that is starting";
}

async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

export async function acquireLock(o: LockOptions): Promise<HeldLock> {
  const me: Owner = { pid: process.pid, host: os.hostname(), ...(processStart(process.pid) ? { start: processStart(process.pid) as string } : {}), since: new Date().toISOString() };
  let waited = false;
  await mkdir(path.dirname(o.lockDir), { recursive: true });
  for (;;) {
    if (o.signal.aborted) throw aborted("waiting for the release lock");
    try {
      await mkdir(o.lockDir);
      await writeFile(path.join(o.lockDir, "owner.json"), JSON.stringify(me));
      break;
    } catch (err) {
      if (errorCode(err) !== "EEXIST") throw err;
    }
    const found = await readOwner(o.lockDir);
    if (found && isStale(found)) {
      await takeOver(o.lockDir, found.owner);
      continue;
    }
    if (!waited && found) {
      waited = true;
      o.onWait?.(describe(found.owner));
    }
    await sleep(POLL_MS, o.signal);
  }
  const ownerFile = path.join(o.lockDir, "owner.json");
  const beat = setInterval(() => {
    const now = new Date();
    utimes(ownerFile, now, now).catch(() => {});
  }, HEARTBEAT_MS);
  beat.unref();
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      clearInterval(beat);
      // Only our own lock: after a long stall someone may have taken it over.
      const found = await readOwner(o.lockDir).catch(() => undefined);
      if (found?.owner && found.owner.pid === me.pid && found.owner.host === me.host && found.owner.since === me.since) {
        await rm(o.lockDir, { recursive: true, force: true });
      }
    },
  };
}

async function takeOver(lockDir: string, staleOwner: Owner | undefined): Promise<void> {
  const guard = `${lockDir}.takeover`;
  try {
    await mkdir(guard);
  } catch (err) {
    if (errorCode(err) !== "EEXIST") throw err;
    // Someone else is taking over; a guard left by a process that died doing so is removed.
    const st = await stat(guard).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > STALE_AFTER_MS) await rm(guard, { recursive: true, force: true });
    return;
  }
  try {
    const again = await readOwner(lockDir);
    // Still the same stale owner (not a new holder that took over in between)?
    if (again && isStale(again) && JSON.stringify(again.owner) === JSON.stringify(staleOwner)) {
      await rm(lockDir, { recursive: true, force: true });
    }
  } finally {
    await rm(guard, { recursive: true, force: true });
  }
}
