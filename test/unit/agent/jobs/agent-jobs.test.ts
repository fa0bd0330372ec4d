// The agent end to end with jobs: a fake console (real socket.io) sends jobs, the agent downloads
// a signed artifact (fake fetch), applies it on the simulated kernel and reports back.
import { createHash, generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Agent } from "../../../../agent/agent";
import { SIMULATED_ARTIFACT_FORMAT, SimulatedKernel } from "../../../../agent/backends/simulate";
import { InventoryCollector } from "../../../../agent/inventory";
import { MemoryJobStore } from "../../../../agent/jobs/store";
import { Logger } from "../../../../agent/log";
import { AGENT_HOST_HEADER, ARTIFACT_HEADERS, artifactSignaturePayload, type Job } from "../../../../agent/protocol";
import { MemoryCredentialStore } from "../../../../agent/state";
import { FakeConsole, waitFor, type FakeHost } from "../fake-console";
import { simulatedKernel } from "../../../helpers/fake-host";

const TOKEN = "test-enroll-token";
const RELEASE = "6.1.0-50-amd64";
const PATCH = randomUUID();
const BUILD = randomUUID();
const MODULE = "livepatch_test_1";
const keys = generateKeyPairSync("ed25519");
const publicPem = keys.publicKey.export({ type: "spki", format: "pem" }).toString();

let fc: FakeConsole;
let agent: Agent | null = null;
let kernel: SimulatedKernel;
let downloads: { url: string; headers: Headers }[];

const artifact = Buffer.from(JSON.stringify({ format: SIMULATED_ARTIFACT_FORMAT, moduleName: MODULE, kernelRelease: RELEASE, patchId: PATCH }));

/** The console's artifact endpoint, signed with the key the console hands out at enrollment. */
const fakeFetch: typeof fetch = async (input, init) => {
  const url = String(input);
  if (!url.includes("/api/v1/agent/artifacts/")) return fetch(input, init);
  downloads.push({ url, headers: new Headers(init?.headers) });
  const fields = { artifactSha256: createHash("sha256").update(artifact).digest("hex"), patchId: PATCH, kernelRelease: RELEASE, moduleName: MODULE };
  const signature = sign(null, Buffer.from(artifactSignaturePayload(fields)), keys.privateKey).toString("base64");
  return new Response(artifact, {
    headers: {
      [ARTIFACT_HEADERS.sha256]: fields.artifactSha256,
      [ARTIFACT_HEADERS.signature]: signature,
      [ARTIFACT_HEADERS.patchId]: PATCH,
      [ARTIFACT_HEADERS.kernelRelease]: RELEASE,
      [ARTIFACT_HEADERS.moduleName]: MODULE,
    },
  });
};

function job(over: Partial<Job> = {}): Job {
  return { jobId: randomUUID(), kind: "apply", patchId: PATCH, buildId: BUILD, moduleName: MODULE, kernelRelease: RELEASE, timeoutSec: 30, requires: [], blockedBy: [], ...over };
}

async function startAgent(opts: { applyMs?: number } = {}): Promise<FakeHost> {
  kernel = simulatedKernel({ hostname: "web-1", kernelRelease: RELEASE, behavior: { applyMs: opts.applyMs ?? 0 } });
  agent = new Agent({
    server: fc.url,
    enrollToken: TOKEN,
    credentials: new MemoryCredentialStore(),
    inventory: new InventoryCollector({ backend: kernel, host: null, agentVersion: "test" }),
    log: new Logger(process.env.AGENT_TEST_LOG ? "debug" : "silent"),
    backoff: { baseMs: 50, capMs: 100 },
    ackTimeoutMs: 500,
    jobStore: new MemoryJobStore(),
    jobResendMs: 100,
    fetch: fakeFetch,
  });
  const connected = new Promise<void>((r) => agent!.once("connected", r));
  await agent.start();
  await connected;
  return [...fc.hosts.values()][0]!;
}

beforeEach(async () => {
  fc = await new FakeConsole({ tokens: [TOKEN], consolePublicKey: publicPem }).start();
  downloads = [];
});
afterEach(async () => {
  await agent?.stop();
  agent = null;
  await fc.stop();
});

const finalUpdates = (host: FakeHost, id: string) => host.jobUpdates.filter((u) => u.jobId === id && (u.phase === "succeeded" || u.phase === "failed"));

describe("Agent jobs", () => {
  it("accepts a job, downloads and verifies the artifact, applies it, reports the result and the new inventory", async () => {
    const host = await startAgent();
    await waitFor(() => host.inventories.length >= 1, 5000, "first inventory");
    const j = job();
    expect(await fc.sendJob(host.hostId, j)).toEqual({ ok: true, phase: "accepted" });
    await waitFor(() => finalUpdates(host, j.jobId).length === 1, 5000, "final update");
    expect(finalUpdates(host, j.jobId)[0]).toMatchObject({ phase: "succeeded", finishedAt: expect.any(String) });
    expect(downloads).toHaveLength(1);
    expect(downloads[0]!.url).toBe(`${fc.url}/api/v1/agent/artifacts/${BUILD}`);
    expect(downloads[0]!.headers.get(AGENT_HOST_HEADER)).toBe(host.hostId);
    await waitFor(() => host.inventories.at(-1)!.livepatches.some((l) => l.name === MODULE), 5000, "inventory with the patch");
    // The console stored the update before acknowledging it: the ack reaches the agent after.
    await waitFor(() => agent!.jobs.get(j.jobId)?.acked === true, 5000, "final update acknowledged");
  });

  it("refuses an invalid job message with a clear error", async () => {
    const host = await startAgent();
    const ack = await fc.sendJob(host.hostId, { jobId: "not-a-uuid", kind: "apply" });
    expect(ack.ok).toBe(false);
    expect(!ack.ok && ack.error).toMatch(/^invalid job: jobId: Invalid UUID/);
  });

  it("finishes a job while disconnected and reports it after reconnecting; a repeated job is answered, not re-run", async () => {
    const host = await startAgent({ applyMs: 600 });
    const j = job();
    await fc.sendJob(host.hostId, j);
    await waitFor(() => agent!.jobs.get(j.jobId)?.phase === "applying", 5000, "applying");
    const port = fc.port;
    await fc.stop();
    await waitFor(() => agent!.jobs.get(j.jobId)?.phase === "succeeded", 5000, "finished offline");
    expect(agent!.jobs.get(j.jobId)?.acked).toBe(false);
    const before = host.jobUpdates.length;

    fc.port = port;
    await fc.start();
    await waitFor(() => finalUpdates(host, j.jobId).length === 1, 10_000, "final update after reconnect");
    expect(host.jobUpdates.slice(before).map((u) => u.phase)).toEqual(["succeeded"]);
    expect(await fc.sendJob(host.hostId, j)).toEqual({ ok: true, phase: "succeeded" });
    await waitFor(() => finalUpdates(host, j.jobId).length === 2, 5000, "final re-sent on repeat");
    expect(kernel.operations.filter((o) => o.kind === "apply")).toHaveLength(1);
  });

  it("resends an update the console does not acknowledge", async () => {
    const host = await startAgent();
    fc.ackJobUpdates = false;
    const j = job();
    await fc.sendJob(host.hostId, j);
    await waitFor(() => finalUpdates(host, j.jobId).length >= 2, 5000, "resent final");
    fc.ackJobUpdates = true;
    await waitFor(() => agent!.jobs.get(j.jobId)?.acked === true, 5000, "acked");
  });

  it("resends an update the console could not store (ack with retry), but not one it refused", async () => {
    const host = await startAgent();
    fc.ackJobUpdates = { ok: false, error: "the console could not store this message now", retry: true };
    const j = job();
    await fc.sendJob(host.hostId, j);
    await waitFor(() => finalUpdates(host, j.jobId).length >= 2, 5000, "final update sent again");
    expect(agent!.jobs.get(j.jobId)?.acked).toBe(false);
    fc.ackJobUpdates = true;
    await waitFor(() => agent!.jobs.get(j.jobId)?.acked === true, 5000, "acked once stored");

    fc.ackJobUpdates = { ok: false, error: "invalid job_update" };
    const k = job();
    await fc.sendJob(host.hostId, k);
    await waitFor(() => agent!.jobs.get(k.jobId)?.acked === true, 5000, "a refusal is an answer");
    // Ten resend intervals: a refused update is never sent again.
    await new Promise((r) => setTimeout(r, 1000));
    expect(finalUpdates(host, k.jobId)).toHaveLength(1);
  });

  it("fails an apply with a re-enroll hint when no console key was pinned", async () => {
    fc.consolePublicKey = undefined;
    const host = await startAgent();
    const j = job();
    await fc.sendJob(host.hostId, j);
    await waitFor(() => finalUpdates(host, j.jobId).length === 1, 5000, "failed");
    expect(finalUpdates(host, j.jobId)[0]!.error).toMatch(/no pinned console signing key[\s\S]*re-enroll the host/);
    expect(downloads).toHaveLength(0);
  });
});
