// The agent program (cli.ts, as a process) with the livepatch backend against the fake kernel:
// real insmod/rmmod processes (fake programs), jobs kept on disk, and a crash in the middle of an
// apply that the restarted agent finishes without loading the module twice.
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Job } from "../../../../agent/protocol";
import { startFakeKernel, type FakeKernel } from "../../../helpers/fake-kernel";
import { FakeConsole, waitFor } from "../fake-console";
import { makeFakeHost, type FakeHost } from "../../../helpers/fake-host";
import { eventually } from "../../../helpers/wait";

const ROOT = path.resolve(import.meta.dirname, "../../../..");
const TOKEN = "process-test-token";
const RELEASE = "6.1.0-50-amd64"; // what the fake host's /proc/sys/kernel/osrelease says

let fc: FakeConsole;
let kernel: FakeKernel;
let host: FakeHost;
let stateDir: string;
let procs: ChildProcess[];

beforeEach(async () => {
  fc = await new FakeConsole({ tokens: [TOKEN], signingKey: generateKeyPairSync("ed25519").privateKey }).start();
  kernel = await startFakeKernel();
  host = makeFakeHost();
  stateDir = await fs.mkdtemp(path.join(os.tmpdir(), "splicer-agent-proc-"));
  procs = [];
});
afterEach(async () => {
  await Promise.all(
    procs.map(async (p) => {
      if (p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise((r) => p.once("exit", r));
      p.kill("SIGKILL");
      await exited;
    }),
  );
  await fc.stop();
  await kernel.stop();
  host.cleanup();
  await fs.rm(stateDir, { recursive: true, force: true });
});

function startAgent(): ChildProcess {
  const p = spawn(process.execPath, ["--import", "tsx", "agent/cli.ts"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      SPLICER_SERVER: fc.url,
      SPLICER_ENROLL_TOKEN: TOKEN,
      SPLICER_STATE_DIR: stateDir,
      SPLICER_BACKEND: "livepatch",
      // sysfs from the fake kernel; /proc for host facts from the fake host, which also holds no tasks.
      SPLICER_SYSFS_ROOT: kernel.sysRoot,
      SPLICER_PROC_ROOT: host.procRoot,
      SPLICER_ETC_ROOT: host.etcRoot,
      SPLICER_INSMOD: kernel.insmod,
      SPLICER_RMMOD: kernel.rmmod,
      SPLICER_LOG_LEVEL: "warn",
    } as unknown as NodeJS.ProcessEnv,
    stdio: ["ignore", "ignore", "pipe"],
  });
  procs.push(p);
  return p;
}

const onlyHostId = () => [...fc.hosts.keys()][0]!;
const updates = (jobId: string) => fc.hosts.get(onlyHostId())!.jobUpdates.filter((u) => u.jobId === jobId);

function applyJob(moduleName: string): Job {
  const buildId = randomUUID();
  const patchId = randomUUID();
  fc.addArtifact(buildId, { bytes: kernel.moduleBytes("stall"), patchId, kernelRelease: RELEASE, moduleName });
  return { jobId: randomUUID(), kind: "apply", patchId, buildId, moduleName, kernelRelease: RELEASE, timeoutSec: 60, requires: [], blockedBy: [] };
}

describe("agent process with the livepatch backend", () => {
  it("resumes an apply interrupted by a crash from its job file, without loading the module twice", async () => {
    const first = startAgent();
    await waitFor(() => fc.connectedCount() === 1, 20_000, "agent connected");
    const job = applyJob("lp_crash");
    expect(await fc.sendJob(onlyHostId(), job)).toEqual({ ok: true, phase: "accepted" });
    // The fake module stalls: the agent sits in "applying", waiting for the transition.
    await waitFor(() => updates(job.jobId).some((u) => u.phase === "applying"), 20_000, "applying");
    expect(await eventually(() => kernel.livepatch("lp_crash"), { what: "lp_crash loaded", intervalMs: 20 })).toEqual({ enabled: true, transition: true });
    const jobFile = JSON.parse(await fs.readFile(path.join(stateDir, "jobs", `${job.jobId}.json`), "utf8"));
    expect(jobFile.phase).toBe("applying");

    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    await kernel.setMode("lp_crash", "normal"); // the blocking task goes away while the agent is down

    startAgent();
    await waitFor(() => updates(job.jobId).some((u) => u.phase === "succeeded"), 20_000, "succeeded after restart");
    const final = updates(job.jobId).find((u) => u.phase === "succeeded")!;
    expect(final.log!.join("\n")).toMatch(/restarted while this job was applying; resuming it[\s\S]*already loaded and enabled; not loading it again/);
    expect(await kernel.calls(), final.log!.join("\n")).toEqual([expect.stringMatching(/^insmod .*lp_crash\.ko$/)]);
    expect(await kernel.livepatch("lp_crash")).toEqual({ enabled: true, transition: false });
    // The same job again: answered from the job file, not run.
    expect(await fc.sendJob(onlyHostId(), job)).toEqual({ ok: true, phase: "succeeded" });
    expect(fc.downloads).toHaveLength(2); // before the crash, and again on resume (verified again before use)
    await waitFor(() => fc.hosts.get(onlyHostId())!.inventories.some((i) => i.livepatches.some((l) => l.name === "lp_crash" && !l.transition)), 10_000, "inventory");
  }, 60_000);
});
