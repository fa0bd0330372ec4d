// An agent's side of artifacts against the real console: the console's key arrives at enrollment,
// a download is authenticated with the host's credential and limited to its kernel release, and
// a tampered artifact (in transit, or on the console's disk) is refused with the reason.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchArtifact } from "@/agent/artifact-fetch";
import type { Build, PatchDetail } from "@/lib/api/schemas";
import { eventually, startTestConsole, type TestConsole } from "../../helpers/console";
import { diffFixture } from "../../helpers/fixtures";

let c: TestConsole;
let host: { hostId: string; credential: string; consolePublicKey: string };
let build: Build;
const RELEASE = "6.1.0-56-amd64";

beforeAll(async () => {
  c = await startTestConsole();
  host = (await c.enroll("art-01", "art-machine-01")) as typeof host;
  // The host's inventory, as its agent would have reported it.
  await c.db.query(`update "Host" set "kernelRelease" = $1 where id = $2`, [RELEASE, host.hostId]);
  await c.db.query(`insert into "Host" (id, hostname, "machineId", "credentialHash", "kernelRelease") values (gen_random_uuid(), 'other', 'other-m', repeat('a', 64), '5.15.0-131-generic')`);
  const diff = diffFixture("function-only-cmdline.diff");
  const p = (await (await c.api("/api/v1/patches", { method: "POST", json: { title: "cmdline", severity: "high", diff }, headers: { origin: c.url } })).json()) as PatchDetail;
  const builds = await eventually(async () => {
    const d = (await (await c.api(`/api/v1/patches/${p.id}`)).json()) as PatchDetail;
    return d.builds.length === 2 && d.builds.every((b) => b.status === "succeeded") ? d.builds : null;
  }, { what: "builds", timeoutMs: 60_000 });
  build = builds.find((b) => b.kernelRelease === RELEASE)!;
});
afterAll(async () => c?.stop());

const get = (over: Partial<Parameters<typeof fetchArtifact>[0]> = {}) =>
  fetchArtifact({ server: c.url, hostId: host.hostId, credential: host.credential, buildId: build.id, consolePublicKey: host.consolePublicKey, kernelRelease: RELEASE, ...over });

describe("artifacts for agents", () => {
  it("hands the console's public key to the agent at enrollment", () => {
    expect(host.consolePublicKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(host.consolePublicKey).toBe(fs.readFileSync(path.join(c.dataDir, "keys", "artifact-signing.pub"), "utf8"));
  });

  it("downloads and verifies an artifact for the host's own kernel release", async () => {
    const r = await get();
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (r.ok) {
      expect(r.fields).toMatchObject({ kernelRelease: RELEASE, artifactSha256: build.artifactSha256, moduleName: build.moduleName });
      expect(JSON.parse(r.bytes.toString("utf8")).replaces[0].name).toBe("cmdline_proc_show");
    }
  });

  it("refuses an artifact changed in transit", async () => {
    const tampering: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const bytes = new Uint8Array(await res.arrayBuffer());
      bytes[10] ^= 0xff;
      return new Response(bytes, { status: res.status, headers: res.headers });
    };
    const r = await get({ fetch: tampering });
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/artifact hash mismatch/) });
    // …and reported: in the audit log and on the host's timeline.
    const audit = (await (await c.api(`/api/v1/audit?action=artifact.rejected&targetId=${build.id}`)).json()) as { items: { actorType: string; actorId: string; details: { reason: string } }[] };
    expect(audit.items[0]).toMatchObject({ actorType: "agent", actorId: host.hostId, details: { reason: expect.stringMatching(/hash mismatch/) } });
    const timeline = (await (await c.api(`/api/v1/hosts/${host.hostId}`)).json()) as { events: { type: string }[] };
    expect(timeline.events[0].type).toBe("artifact_rejected");
    // Same bytes, signed fields swapped: another release named in the headers.
    const relabel: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const headers = new Headers(res.headers);
      headers.set("x-splicer-kernel-release", "6.1.0-1-amd64");
      return new Response(await res.arrayBuffer(), { status: res.status, headers });
    };
    expect(await get({ fetch: relabel, kernelRelease: "6.1.0-1-amd64" })).toMatchObject({ ok: false, reason: expect.stringMatching(/signature does not verify/) });
  });

  it("refuses a key that is not the pinned one", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const other = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }) as string;
    expect(await get({ consolePublicKey: other })).toMatchObject({ ok: false, reason: expect.stringMatching(/signature does not verify/) });
  });

  it("only serves an enrolled host, for its own kernel release", async () => {
    expect(await get({ credential: "spl_agt_" + "x".repeat(43) })).toMatchObject({ ok: false, status: 401 });
    const [other] = await c.db.query<{ id: string }>(`select b.id::text from "Build" b where b."kernelRelease" <> $1 limit 1`, [RELEASE]);
    expect(await get({ buildId: other.id })).toMatchObject({ ok: false, status: 403, reason: expect.stringMatching(/this build is for 5\.15/) });
  });

  it("refuses to serve an artifact whose file was changed on the console's disk", async () => {
    const file = path.join(c.dataDir, "artifacts", build.artifactSha256!.slice(0, 2), build.artifactSha256!);
    const original = fs.readFileSync(file);
    fs.writeFileSync(file, Buffer.concat([original, Buffer.from("\n// injected")]));
    try {
      expect(await get()).toMatchObject({ ok: false, status: 409, reason: expect.stringMatching(/does not match its hash/) });
    } finally {
      fs.writeFileSync(file, original);
    }
  });
});
