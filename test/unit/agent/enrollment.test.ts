import { describe, expect, it } from "vitest";
import { Backoff } from "../../../agent/backoff";
import { Enroller, EnrollmentAbortedError, EnrollmentRejectedError, enrollUrl } from "../../../agent/enrollment";
import type { Timers } from "../../../agent/timers";

const req = { enrollmentToken: "token-123456", hostname: "web-1", machineId: "0123456789abcdef0123456789abcdef" };
const ok = { hostId: "0b0f9a8e-3c1d-4e6f-9a2b-5c7d8e9f0a1b", credential: "k".repeat(43) };

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

/** Records requested sleeps and skips them. */
function instantTimers(slept: number[]): Timers {
  return {
    now: () => 0,
    setTimeout: (fn, ms) => {
      slept.push(ms);
      queueMicrotask(fn);
      return 0;
    },
    clearTimeout: () => undefined,
    setInterval: () => 0,
    clearInterval: () => undefined,
  };
}

function enroller(responses: Array<Response | Error>, slept: number[] = [], seen: Request[] = []) {
  const fetchFn = (async (url: string | URL | Request, init?: RequestInit) => {
    seen.push(new Request(url, init));
    const next = responses.shift();
    if (!next) throw new Error("no more responses");
    if (next instanceof Error) throw next;
    return next;
  }) as typeof fetch;
  return new Enroller({
    server: "https://console.example/splicer/",
    fetch: fetchFn,
    timers: instantTimers(slept),
    backoff: new Backoff({ baseMs: 1000, capMs: 8000, random: () => 0.5 }),
  });
}

describe("Enroller", () => {
  it("POSTs the request as JSON to the enroll path, keeping the console's path prefix", async () => {
    expect(enrollUrl("https://console.example/splicer/")).toBe("https://console.example/splicer/api/v1/agent/enroll");
    const seen: Request[] = [];
    expect(await enroller([json(200, ok)], [], seen).enroll(req)).toEqual(ok);
    expect(seen[0]!.method).toBe("POST");
    expect(seen[0]!.headers.get("content-type")).toBe("application/json");
    expect(await seen[0]!.json()).toEqual(req);
  });

  it("retries network errors, 5xx, 429 and malformed answers with backoff, honouring Retry-After", async () => {
    const slept: number[] = [];
    const e = enroller(
      [
        new TypeError("fetch failed"),
        json(503, { error: { code: "unavailable", message: "starting" } }),
        json(429, { error: { code: "rate_limited", message: "slow down" } }, { "retry-after": "7" }),
        json(200, { hostId: "not-a-uuid" }),
        json(200, ok),
      ],
      slept,
    );
    expect(await e.enroll(req)).toEqual(ok);
    expect(slept).toEqual([500, 1000, 7000, 4000]);
  });

  it("treats other 4xx answers as final and carries the console's error", async () => {
    const err = await enroller([json(403, { error: { code: "token_used", message: "this token was already used" } })])
      .enroll(req)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnrollmentRejectedError);
    expect(err).toMatchObject({ status: 403, code: "token_used", message: "this token was already used" });
  });

  it("copes with a 4xx whose body is not JSON", async () => {
    const err = await enroller([new Response("Bad Request", { status: 400 })]).enroll(req).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, code: "http_400", message: "Bad Request" });
  });

  it("stops retrying when aborted", async () => {
    const ctrl = new AbortController();
    ctrl.abort();
    await expect(enroller([json(503, {})]).enroll(req, ctrl.signal)).rejects.toBeInstanceOf(EnrollmentAbortedError);
  });
});
