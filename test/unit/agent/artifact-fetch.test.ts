// fetchArtifact tells a passing failure (console unreachable or failing: retry) from a final answer.
import { describe, expect, it } from "vitest";
import { fetchArtifact } from "../../../agent/artifact-fetch";

const base = { server: "http://127.0.0.1:1", hostId: "h", credential: "c", buildId: "b", consolePublicKey: "k", kernelRelease: "r" };

describe("fetchArtifact", () => {
  it("marks network errors, 5xx, 408 and 429 retryable, and other refusals final", async () => {
    // A real refused connection: nothing listens on port 1.
    const refused = await fetchArtifact(base);
    expect(refused).toMatchObject({ ok: false, retryable: true });
    expect(!refused.ok && refused.reason).toMatch(/^download failed: /);
    const answer = (status: number) => fetchArtifact({ ...base, fetch: async () => new Response(JSON.stringify({ error: { message: "x" } }), { status }) });
    for (const status of [500, 502, 503, 504, 408, 429]) expect(await answer(status), String(status)).toMatchObject({ ok: false, status, retryable: true });
    for (const status of [400, 401, 403, 404, 410]) expect(await answer(status), String(status)).toMatchObject({ ok: false, status, retryable: false });
    // Aborted by the job's deadline: not something to retry.
    const ac = new AbortController();
    ac.abort();
    expect(await fetchArtifact({ ...base, signal: ac.signal })).toMatchObject({ ok: false, retryable: false });
  });
});
