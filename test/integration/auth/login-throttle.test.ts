// The sign-in throttle over the real HTTP API, from real distinct source addresses (the console
// listens on 127.0.0.1; each client binds its own 127.0.0.x, which is what the console sees).
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestConsole, type TestConsole } from "../../helpers/console";

let c: TestConsole;

type Result = { status: number; retryAfter: string | null; body: { error?: { code: string; message: string } } };
function loginFrom(source: string, username: string, password: string): Promise<Result> {
  const body = JSON.stringify({ username, password });
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${c.url}/api/v1/auth/login`,
      { method: "POST", localAddress: source, agent: false, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode!, retryAfter: (res.headers["retry-after"] as string | undefined) ?? null, body: JSON.parse(text) }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
const failuresAudited = async (username: string) =>
  (await c.db.query<{ n: number }>(`select count(*)::int as n from "AuditEvent" where action = 'auth.login_failed' and "actorName" = $1`, [username]))[0].n;

beforeAll(async () => {
  c = await startTestConsole();
  for (const username of ["otto", "olga", "oskar"]) {
    const r = await c.api("/api/v1/operators", { method: "POST", json: { username, password: `${username}-password-1`, role: "operator" }, headers: { origin: c.url } });
    expect(r.status).toBe(200);
  }
});
afterAll(async () => c?.stop());

describe("sign-in throttle", () => {
  it("checks at most 5 of 30 parallel wrong guesses from one source; the rest get 429 with Retry-After", async () => {
    const before = await failuresAudited("otto");
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => loginFrom("127.0.0.10", "otto", `wrong-guess-${i}`)));
    const checked = results.filter((r) => r.status === 401);
    const limited = results.filter((r) => r.status === 429);
    expect(checked.length + limited.length).toBe(30);
    expect(checked).toHaveLength(5);
    // Every checked guess is in the audit log; refused ones never reached the password check.
    expect((await failuresAudited("otto")) - before).toBe(5);
    for (const r of limited) {
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(r.body.error?.code).toBe("rate_limited");
      expect(r.body.error?.message).toMatch(/too many sign-in attempts/);
    }
  });

  it("lets the owner sign in from another address while an attacker hammers the account", async () => {
    let stop = false;
    let done = false;
    const attacker: Result[] = [];
    const hammer = (async () => {
      for (let i = 0; !stop && i < 300; i++) attacker.push(await loginFrom("127.0.0.11", "olga", `guess-${i}`));
      done = true;
    })();
    try {
      // Wait until the attacker has used up their free guesses and is being refused.
      while (!done && attacker.filter((r) => r.status === 429).length < 3) await new Promise((r) => setTimeout(r, 20));
      expect(attacker.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(3);
      const owner = await loginFrom("127.0.0.12", "olga", "olga-password-1");
      expect(owner.status).toBe(200);
    } finally {
      stop = true;
      await hammer;
    }
  });

  it("after a few typos the owner waits seconds, not 15 minutes, at their own address", async () => {
    for (let i = 0; i < 5; i++) expect((await loginFrom("127.0.0.13", "oskar", `typo-${i}`)).status).toBe(401);
    const limited = await loginFrom("127.0.0.13", "oskar", "oskar-password-1");
    expect(limited.status).toBe(429);
    const wait = Number(limited.retryAfter);
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(2);
    await new Promise((r) => setTimeout(r, wait * 1000));
    expect((await loginFrom("127.0.0.13", "oskar", "oskar-password-1")).status).toBe(200);
  });

  it("limits one source across accounts: of 30 parallel attempts on 30 names, at most 20 are checked", async () => {
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => loginFrom("127.0.0.14", `nobody-${i}`, "wrong")));
    expect(results.filter((r) => r.status === 401)).toHaveLength(20);
    expect(results.filter((r) => r.status === 429)).toHaveLength(10);
    // Another address is not affected.
    expect((await loginFrom("127.0.0.15", "otto", "otto-password-1")).status).toBe(200);
  });
});
