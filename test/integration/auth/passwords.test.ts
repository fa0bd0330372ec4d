// Password strength (zxcvbn) wherever a password is chosen: new operators, resets, SPLICER_ADMIN_PASSWORD.
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, startTestConsole, type TestConsole } from "../../helpers/console";

let c: TestConsole;
const WEAK = ["aaaaaaaaaa", "1234567890", "password12", " ".repeat(10)];

beforeAll(async () => {
  c = await startTestConsole();
});
afterAll(async () => c?.stop());

describe("password strength", () => {
  it.each(WEAK)("refuses %j for a new operator with a 400 naming the weakness", async (password) => {
    const r = await c.api("/api/v1/operators", { method: "POST", json: { username: "weakling", password, role: "viewer" }, headers: { origin: c.url } });
    expect(r.status).toBe(400);
    const { error } = await r.json();
    expect(error.code).toBe("weak_password");
    expect(error.message).toMatch(/password too weak \(strength [0-2] of 4, at least 3 needed\): \S+/);
    expect(await c.db.query(`select 1 from "Operator" where username = 'weakling'`)).toHaveLength(0);
  });

  it("counts the username: a password made of it is refused", async () => {
    const r = await c.api("/api/v1/operators", { method: "POST", json: { username: "margarethe.vonwinterfeld", password: "margarethe.vonwinterfeld", role: "viewer" }, headers: { origin: c.url } });
    expect(r.status).toBe(400);
    expect((await r.json()).error.code).toBe("weak_password");
  });

  it("refuses a weak password on reset and keeps the old one", async () => {
    const r = await c.api("/api/v1/operators", { method: "POST", json: { username: "rita", password: "rita-password-1", role: "viewer" }, headers: { origin: c.url } });
    expect(r.status).toBe(200);
    const { id } = (await r.json()) as { id: string };
    const reset = await c.api(`/api/v1/operators/${id}`, { method: "PATCH", json: { password: "password12" }, headers: { origin: c.url } });
    expect(reset.status).toBe(400);
    expect((await reset.json()).error.message).toMatch(/too weak.*commonly used password/);
    await c.login("rita", "rita-password-1");
    const good = await c.api(`/api/v1/operators/${id}`, { method: "PATCH", json: { password: "lantern orbit kettle 42" }, headers: { origin: c.url } });
    expect(good.status).toBe(200);
    await c.login("rita", "lantern orbit kettle 42");
  });

  it("stops the start when SPLICER_ADMIN_PASSWORD is weak, naming the variable", async () => {
    const proc = spawn(process.execPath, ["--import", "tsx", "--import", "./scripts/hooks/register.mjs", "scripts/serve.ts"], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: c.db.url, PORT: "0", HOST: "127.0.0.1", SPLICER_ADMIN_PASSWORD: "password12", SPLICER_DATA_DIR: c.dataDir, SPLICER_SKIP_BUILD_CHECK: "1", LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    proc.stdout.on("data", (d) => (out += d));
    proc.stderr.on("data", (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => {
      proc.once("exit", (c) => resolve(c));
      // A console that starts instead of refusing is the failure this test looks for.
      proc.stdout.on("data", () => out.includes("SPLICER_READY") && proc.kill("SIGTERM"));
    });
    expect(out).not.toContain("SPLICER_READY");
    expect(code).toBe(2);
    expect(out).toMatch(/SPLICER_ADMIN_PASSWORD: password too weak/);
  });
});
