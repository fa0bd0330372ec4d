// `npm start` as a newcomer runs it: embedded PostgreSQL in the data dir, migrations, the admin
// login printed, a demo fleet with a realistic mix; Ctrl-C stops everything, the database too.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { FleetSummary } from "@/lib/api/schemas";
import { ROOT, eventually } from "../helpers/console";
import { freePort } from "@/lib/db/embedded";

describe("npm start", () => {
  it("serves the console with a demo fleet on an embedded database and stops cleanly on SIGINT", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-start-"));
    fs.chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as a `postgres` user that must reach it
    const port = await freePort();
    const env = { ...process.env, PORT: String(port), HOST: "127.0.0.1", SPLICER_DATA_DIR: dataDir, SPLICER_DEMO_AGENTS: "24", SPLICER_SKIP_BUILD_CHECK: "1", LOG_LEVEL: "warn" } as NodeJS.ProcessEnv;
    delete env.DATABASE_URL;
    delete env.SPLICER_ADMIN_PASSWORD;
    const proc = spawn(process.execPath, ["--import", "tsx", "--import", "./scripts/hooks/register.mjs", "scripts/start.ts"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    proc.stdout.on("data", (d) => (out += d));
    proc.stderr.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
    try {
      await eventually(async () => out.includes("SPLICER_READY"), { what: `the console to start:\n${out}`, timeoutMs: 90_000 });
      const password = out.match(/Password:\s+(\S+)\s+\(generated/)?.[1];
      expect(password, out).toBeTruthy();
      expect(out).toContain(`Splicer console: http://localhost:${port}`);
      expect(out).toMatch(/Sign in as:\s+admin/);
      expect(fs.existsSync(path.join(dataDir, "pg", "PG_VERSION"))).toBe(true);

      const login = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password }) });
      expect(login.status).toBe(200);
      const cookie = login.headers.getSetCookie()[0].split(";")[0];
      const summary = await eventually(async () => {
        const s = (await (await fetch(`http://127.0.0.1:${port}/api/v1/fleet/summary`, { headers: { cookie } })).json()) as FleetSummary;
        return s.online === 24 ? s : null;
      }, { what: "24 demo hosts online", timeoutMs: 60_000 });
      expect(summary.kernels.length).toBeGreaterThanOrEqual(4);
      expect(summary.distros.length).toBeGreaterThanOrEqual(3);

      proc.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(out).toContain("splicer: stopped");
      // The embedded database is down: its pid file is gone.
      expect(fs.existsSync(path.join(dataDir, "pg", "postmaster.pid"))).toBe(false);
    } finally {
      if (proc.exitCode === null) proc.kill("SIGKILL");
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
