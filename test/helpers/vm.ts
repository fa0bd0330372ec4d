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
export async function bootTestGuest(c: TestConsole, release: string, opts: { timeoutMs?: number } = {}): Promise<TestGuest> {
  if (missing.length) throw new Error(`cannot boot a VM guest here: needs ${missing.join("; ")}`);
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-vm-"));
  const prepared = await prepareGuest({
    release,
    server: c.url,
    enrollToken: await c.enrollmentToken({ maxUses: 5 }),
    cacheDir: VM_CACHE_DIR,
    runDir,
    agentBundle: path.join(ROOT, "agent/dist/splicer-agent.js"),
    progress: process.env.SPLICER_VM_VERBOSE ? (m) => process.stderr.write(`[vm] ${m}\n`) : undefined,
  });
  const logs = () =>
    `--- ${prepared.hostname} console (last 60 lines) ---\n${prepared.guest.serialLog().replace(/\r/g, "").split("\n").slice(-60).join("\n")}\n` +
    `--- ${prepared.hostname} agent ---\n${prepared.guest.agentLog().split("\n").slice(-30).join("\n")}`;
  const dispose = async () => {
    await prepared.guest.stop();
    fs.rmSync(runDir, { recursive: true, force: true });
  };
  try {
    const boot = await prepared.guest.boot({ waitForAgent: true, timeoutMs: opts.timeoutMs ?? 150_000 });
    return { ...prepared, boot, runDir, dispose, logs };
  } catch (err) {
    const msg = `${err instanceof Error ? err.message : String(err)}\n${logs()}`;
    await dispose();
    throw new Error(msg);
  }
}
