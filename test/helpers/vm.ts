// Guests on real Debian kernels for tests (scripts/lib/vm): whether they can run here, and one
// booted against a test console with its files in a temporary directory.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { missingVmTools, prepareGuest, type PreparedGuest } from "@/scripts/lib/vm/fleet";
import type { BootResult } from "@/scripts/lib/vm/guest";
import { ROOT, type TestConsole } from "./console";

const missing = missingVmTools();
/** Why VM tests cannot run here (null: they can). In CI they always run: CI installs QEMU and busybox. */
export const vmSkipReason: string | null =
  missing.length > 0 && process.env.CI !== "true" ? `needs ${missing.join("; ")}` : null;

/** Kernel packages and the base initramfs, kept between runs (override with SPLICER_VM_CACHE). */
export const VM_CACHE_DIR = process.env.SPLICER_VM_CACHE ?? path.join(ROOT, ".data/vm-cache");

export interface TestGuest extends PreparedGuest {
  boot: BootResult;
  runDir: string;
  /** Stops the guest and removes its files. */
  dispose(): Promise<void>;
  /** The guest's console and agent logs, for a failure message. */
  logs(): string;
}

/** Prepares and boots one guest on `release` enrolled with the console; resolves once its agent is connected. */
export interface TestGuestOptions {
  timeoutMs?: number;
  /** Modules the guest carries for `load-module <name>`. */
  extraModules?: string[];
}

export async function bootTestGuest(c: TestConsole, release: string, opts: TestGuestOptions = {}): Promise<TestGuest> {
  return startPrepared(await prepareTestGuest(c, release, opts), opts);
}

/**
 * Guests on several releases, booted together (prepared one after the other: the first builds the
 * shared initramfs). If one fails to boot, the others are stopped.
 */
export async function bootTestGuests(c: TestConsole, releases: string[], opts: TestGuestOptions = {}): Promise<TestGuest[]> {
  const prepared: Prepared[] = [];
  for (const r of releases) prepared.push(await prepareTestGuest(c, r, opts));
  const booted = await Promise.allSettled(prepared.map((p) => startPrepared(p, opts)));
  const failed = booted.filter((b): b is PromiseRejectedResult => b.status === "rejected");
  if (failed.length) {
    await Promise.all(booted.map((b) => (b.status === "fulfilled" ? b.value.dispose() : undefined)));
    throw new Error(failed.map((f) => (f.reason instanceof Error ? f.reason.message : String(f.reason))).join("\n\n"));
  }
  return booted.map((b) => (b as PromiseFulfilledResult<TestGuest>).value);
}

type Prepared = PreparedGuest & { runDir: string };

async function prepareTestGuest(c: TestConsole, release: string, opts: TestGuestOptions): Promise<Prepared> {
  if (missing.length) throw new Error(`cannot boot a VM guest here: needs ${missing.join("; ")}`);
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-vm-"));
  return { ...(await prepareGuest({
    release,
    server: c.url,
    enrollToken: await c.enrollmentToken({ maxUses: 5 }),
    cacheDir: VM_CACHE_DIR,
    runDir,
    agentBundle: path.join(ROOT, "agent/dist/splicer-agent.js"),
    extraModules: opts.extraModules,
    progress: process.env.SPLICER_VM_VERBOSE ? (m) => process.stderr.write(`[vm] ${m}\n`) : undefined,
  })), runDir };
}

async function startPrepared(prepared: Prepared, opts: { timeoutMs?: number }): Promise<TestGuest> {
  const { runDir, guest, hostname } = prepared;
  const tail = (text: string, n: number) => text.replace(/\r/g, "").split("\n").slice(-n).join("\n");
  const logs = () =>
    `--- ${hostname} console (ttyS0) ---\n${tail(guest.serialLog(), 40)}\n--- ${hostname} kernel (ttyS1) ---\n${tail(guest.kernelLog(), 30)}\n` +
    `--- ${hostname} agent (ttyS2) ---\n${tail(guest.agentLog(), 30)}`;
  const dispose = async () => {
    await guest.stop();
    fs.rmSync(runDir, { recursive: true, force: true });
  };
  try {
    const boot = await guest.boot({ waitForAgent: true, timeoutMs: opts.timeoutMs ?? 150_000 });
    return { ...prepared, boot, runDir, dispose, logs };
  } catch (err) {
    const msg = `${err instanceof Error ? err.message.split("\n")[0] : String(err)}\n${logs()}`;
    await dispose();
    throw new Error(msg);
  }
}
