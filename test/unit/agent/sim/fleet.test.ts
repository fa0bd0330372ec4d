import { generateKeyPairSync, randomUUID } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SIMULATED_ARTIFACT_FORMAT } from "../../../../agent/backends/simulate";
import type { Job } from "../../../../agent/protocol";
import { defaultFleetStateDir, startFleet } from "../../../../agent/sim/fleet";
import { FakeConsole, waitFor } from "../fake-console";

const TOKEN = "fleet-token-123";
let fc: FakeConsole;
let stateDir: string;

beforeEach(async () => {
  fc = await new FakeConsole({ tokens: [TOKEN], heartbeatIntervalSec: 30 }).start();
  stateDir = await fs.mkdtemp(path.join(os.tmpdir(), "splicer-fleet-"));
});
afterEach(async () => {
  await fc.stop();
  await fs.rm(stateDir, { recursive: true, force: true });
});

const opts = (over: Partial<Parameters<typeof startFleet>[0]> = {}) => ({
  server: fc.url,
  enrollToken: TOKEN,
  agents: 30,
  stateDir,
  seed: "test",
  connectSpreadMs: 200,
  progress: false as const,
  ...over,
});

describe("startFleet", () => {
  it("enrolls and connects N agents, each reporting a realistic inventory", async () => {
    const lines: string[] = [];
    const fleet = await startFleet(opts({ progress: (l) => lines.push(l) }));
    try {
      await fleet.waitConnected(30, 20_000);
      expect(fleet.connectedCount()).toBe(30);
      expect(fleet.enrolledCount()).toBe(30);
      expect(fc.hosts.size).toBe(30);
      await waitFor(() => [...fc.hosts.values()].every((h) => h.inventories.length === 1), 5000, "inventories");
      const invs = [...fc.hosts.values()].map((h) => h.inventories[0]!);
      expect(new Set(invs.map((i) => i.kernelRelease)).size).toBeGreaterThanOrEqual(4);
      expect(new Set(invs.map((i) => i.machineId)).size).toBe(30);
      expect(invs.some((i) => i.livepatches.length > 0)).toBe(true); // seed "test" has some
      expect(lines.some((l) => /enrolled 30\/30, connected \d+\/30/.test(l))).toBe(true);
      const file = path.join(stateDir, "credentials.json");
      expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    } finally {
      await fleet.stop();
    }
    expect(fleet.connectedCount()).toBe(0);
  });

  it("reuses its stored credentials after a restart instead of enrolling again", async () => {
    const first = await startFleet(opts({ agents: 10 }));
    await first.waitConnected(10, 20_000);
    const ids = first.agents.map((a) => a.agent.hostId).sort();
    await first.stop();
    expect(fc.enrollRequests).toBe(10);

    const second = await startFleet(opts({ agents: 10 }));
    try {
      await second.waitConnected(10, 20_000);
      expect(fc.enrollRequests).toBe(10);
      expect(second.agents.map((a) => a.agent.hostId).sort()).toEqual(ids);
      expect([...fc.hosts.values()].every((h) => h.connects === 2)).toBe(true);
    } finally {
      await second.stop();
    }
  });

  it("forgets a revoked host's credential", async () => {
    const fleet = await startFleet(opts({ agents: 3 }));
    try {
      await fleet.waitConnected(3, 20_000);
      const victim = fleet.agents[1]!;
      fc.revoke(victim.agent.hostId!);
      expect((await victim.agent.done).code).toBe(3);
      await fleet.stop();
      const stored = JSON.parse(await fs.readFile(path.join(stateDir, "credentials.json"), "utf8"));
      expect(Object.keys(stored.hosts).sort()).toEqual([fleet.agents[0]!.profile.machineId, fleet.agents[2]!.profile.machineId].sort());
    } finally {
      await fleet.stop();
    }
  });

  it("fails fast with the console's message when the token is refused", async () => {
    await expect(startFleet(opts({ enrollToken: "wrong-token-1" }))).rejects.toThrow(/enrollment token is invalid or expired/);
    // One refusal stops the rest: at most one concurrency batch knocked.
    expect(fc.enrollRequests).toBeLessThanOrEqual(50);
  });

  it("defaults its state dir to .data/fleet-sim/<hash of server>", () => {
    expect(defaultFleetStateDir("http://127.0.0.1:3000", "/repo")).toMatch(/^\/repo\/\.data\/fleet-sim\/[0-9a-f]{12}$/);
    expect(defaultFleetStateDir("http://a")).not.toBe(defaultFleetStateDir("http://b"));
  });
});

describe("startFleet jobs", () => {
  it("runs jobs on every simulated host with the fleet's apply time; a host made to fail fails with a kernel-like message", async () => {
    const signed = await new FakeConsole({ tokens: [TOKEN], signingKey: generateKeyPairSync("ed25519").privateKey }).start();
    const fleet = await startFleet({ ...opts({ server: signed.url, agents: 12 }), applyMs: 30, failureRate: 0 });
    try {
      await fleet.waitConnected(12, 20_000);
      const patchId = randomUUID();
      const moduleName = "livepatch_fleet_1";
      const builds = new Map<string, string>();
      for (const a of fleet.agents) {
        const release = a.profile.kernelRelease;
        if (builds.has(release)) continue;
        const buildId = randomUUID();
        builds.set(release, buildId);
        const bytes = Buffer.from(JSON.stringify({ format: SIMULATED_ARTIFACT_FORMAT, moduleName, kernelRelease: release, patchId }));
        signed.addArtifact(buildId, { bytes, patchId, kernelRelease: release, moduleName });
      }
      const victim = fleet.agents[3]!;
      victim.kernel.setBehavior({ forceFailure: "refused" });
      const jobs = new Map<string, Job>();
      const t0 = Date.now();
      for (const a of fleet.agents) {
        const job: Job = { jobId: randomUUID(), kind: "apply", patchId, buildId: builds.get(a.profile.kernelRelease)!, moduleName, kernelRelease: a.profile.kernelRelease, timeoutSec: 30, requires: [], blockedBy: [] };
        jobs.set(a.agent.hostId!, job);
        expect(await signed.sendJob(a.agent.hostId!, job)).toEqual({ ok: true, phase: "accepted" });
      }
      const final = (hostId: string) => signed.hosts.get(hostId)!.jobUpdates.find((u) => u.phase === "succeeded" || u.phase === "failed");
      await waitFor(() => fleet.agents.every((a) => final(a.agent.hostId!)), 10_000, "every host's result");
      expect(Date.now() - t0).toBeGreaterThanOrEqual(30);
      for (const a of fleet.agents) {
        const u = final(a.agent.hostId!)!;
        if (a === victim) {
          expect(u).toMatchObject({ phase: "failed", error: `insmod: ERROR: could not insert module /var/lib/splicer-agent/modules/${moduleName}.ko: Invalid parameters` });
        } else {
          expect(u.phase).toBe("succeeded");
          expect((await a.kernel.listLivepatches()).map((l) => l.name)).toContain(moduleName);
        }
        expect(a.jobs.records.get(jobs.get(a.agent.hostId!)!.jobId)?.phase).toBe(u.phase);
      }
      expect(signed.downloads).toHaveLength(12);

      // Fleet-wide knobs change every host at run time.
      fleet.setBehavior({ failureRate: 1 });
      const other = fleet.agents[0]!;
      const revert: Job = { jobId: randomUUID(), kind: "revert", patchId, moduleName, kernelRelease: other.profile.kernelRelease, timeoutSec: 30, requires: [], blockedBy: [] };
      await signed.sendJob(other.agent.hostId!, revert);
      await waitFor(() => signed.hosts.get(other.agent.hostId!)!.jobUpdates.some((u) => u.jobId === revert.jobId && u.phase === "succeeded"), 5000, "revert (reverts do not fail by default)");
      expect(other.kernel.getBehavior().failureRate).toBe(1);
    } finally {
      await fleet.stop();
      await signed.stop();
    }
  });
});
