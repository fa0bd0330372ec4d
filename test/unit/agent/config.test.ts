import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, parseCli } from "../../../agent/config";

const ROOT = path.resolve(import.meta.dirname, "../../..");

function run(argv: string[], env: Record<string, string> = {}) {
  return parseCli(argv, env);
}

function errorOf(argv: string[], env: Record<string, string> = {}): string {
  try {
    run(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("parseCli", () => {
  it("reads flags, fills defaults and strips a trailing slash from the server", () => {
    const r = run(["--server", "https://console.example/", "--enroll-token", "tok-12345678", "--state-dir", "/var/lib/x"]);
    expect(r).toEqual({
      kind: "run",
      config: {
        server: "https://console.example",
        enrollToken: "tok-12345678",
        stateDir: "/var/lib/x",
        backend: "livepatch",
        sysfsRoot: "/sys",
        procRoot: "/proc",
        etcRoot: "/etc",
        logLevel: "info",
        insmod: "insmod",
        rmmod: "rmmod",
      },
    });
  });

  it("takes the insmod/rmmod commands and the simulate backend's knobs from flags or env", () => {
    const r = run(["--server", "http://c", "--insmod", "/opt/fake/insmod --fake-root '/tmp/my root'", "--simulate-fail", "stall"], {
      SPLICER_RMMOD: "/usr/sbin/rmmod -f",
      SPLICER_SIMULATE_APPLY_MS: "250",
      SPLICER_SIMULATE_FAILURE_RATE: "0.25",
    });
    expect(r.kind === "run" && r.config).toMatchObject({
      insmod: "/opt/fake/insmod --fake-root '/tmp/my root'",
      rmmod: "/usr/sbin/rmmod -f",
      simulateApplyMs: 250,
      simulateFailureRate: 0.25,
      simulateFail: "stall",
    });
  });

  it("refuses a bad insmod command and out-of-range simulate knobs", () => {
    const msg = errorOf(["--server", "http://c", "--insmod", "'unbalanced", "--rmmod", " ", "--simulate-failure-rate", "1.5", "--simulate-apply-ms=-1", "--simulate-fail", "sometimes"]);
    expect(msg).toContain("--insmod (SPLICER_INSMOD): has an unbalanced quote");
    expect(msg).toContain("--rmmod (SPLICER_RMMOD): must not be empty");
    expect(msg).toContain("--simulate-failure-rate (SPLICER_SIMULATE_FAILURE_RATE): must be from 0 to 1");
    expect(msg).toContain("--simulate-apply-ms (SPLICER_SIMULATE_APPLY_MS): must be at least 0");
    expect(msg).toContain("--simulate-fail (SPLICER_SIMULATE_FAIL): must be one of: none, refused, stall");
  });

  it("takes every setting from the environment, and flags win over it", () => {
    const env = {
      SPLICER_SERVER: "http://env-console:3000",
      SPLICER_ENROLL_TOKEN: "env-token-1",
      SPLICER_STATE_DIR: "/tmp/env-state",
      SPLICER_BACKEND: "simulate",
      SPLICER_SYSFS_ROOT: "/tmp/sys",
      SPLICER_PROC_ROOT: "/tmp/proc",
      SPLICER_ETC_ROOT: "/tmp/etc",
      SPLICER_HEARTBEAT_SEC: "5",
      SPLICER_LOG_LEVEL: "debug",
    };
    const r = run(["--backend", "livepatch"], env);
    expect(r.kind === "run" && r.config).toMatchObject({
      server: "http://env-console:3000",
      enrollToken: "env-token-1",
      stateDir: "/tmp/env-state",
      backend: "livepatch",
      sysfsRoot: "/tmp/sys",
      procRoot: "/tmp/proc",
      etcRoot: "/tmp/etc",
      heartbeatSec: 5,
      logLevel: "debug",
    });
  });

  it("treats an empty env var as unset and resolves relative paths", () => {
    const r = run(["--server", "http://c", "--state-dir", "rel/state"], { SPLICER_ENROLL_TOKEN: "" });
    expect(r.kind === "run" && r.config.enrollToken).toBeUndefined();
    expect(r.kind === "run" && r.config.stateDir).toBe(path.resolve("rel/state"));
  });

  it("names each bad setting by flag and env var", () => {
    const msg = errorOf(["--server", "ftp://x", "--backend", "kpatch", "--heartbeat-sec", "0", "--enroll-token", "short"]);
    expect(msg).toContain("--server (SPLICER_SERVER): must be an http(s) URL");
    expect(msg).toContain("--backend (SPLICER_BACKEND): must be one of: livepatch, simulate");
    expect(msg).toContain("--heartbeat-sec (SPLICER_HEARTBEAT_SEC): must be at least 1");
    expect(msg).toContain("--enroll-token (SPLICER_ENROLL_TOKEN): must be at least 8 characters");
  });

  it("requires a server", () => {
    expect(errorOf([])).toMatch(/--server \(SPLICER_SERVER\): is required/);
  });

  it("rejects unknown flags and stray arguments", () => {
    expect(errorOf(["--server", "http://c", "--frobnicate"])).toMatch(/Unknown option '--frobnicate'/);
    expect(errorOf(["--server", "http://c", "extra"])).toMatch(/positional argument/);
    expect(errorOf(["--heartbeat-sec", "1.5", "--server", "http://c"])).toMatch(/whole number/);
  });

  it("recognises --help and --version", () => {
    expect(run(["--help"])).toEqual({ kind: "help" });
    expect(run(["-h"])).toEqual({ kind: "help" });
    expect(run(["--version"])).toEqual({ kind: "version" });
  });
});

describe("splicer-agent CLI (source)", () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ["--import", "tsx", "agent/cli.ts", ...args], {
      cwd: ROOT,
      encoding: "utf8",
      // A bare environment, so the test's own SPLICER_* variables cannot leak in.
      env: { PATH: process.env.PATH ?? "", ...env } as unknown as NodeJS.ProcessEnv,
      timeout: 20_000,
    });

  it("exits 2 with a clear message on bad arguments", () => {
    const r = cli(["--server", "not a url", "--backend", "nope"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("splicer-agent: invalid configuration:");
    expect(r.stderr).toContain("--server (SPLICER_SERVER)");
    expect(r.stderr).toContain("--backend (SPLICER_BACKEND)");
    expect(r.stderr).toContain("--help");
  });

  it("exits 2 on an unknown flag", () => {
    const r = cli(["--sevrer", "http://x"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("Unknown option '--sevrer'");
  });

  it("exits 2 when it has neither a credential nor an enrollment token", async () => {
    const { mkdtemp, rm } = await import("node:fs/promises");
    const dir = await mkdtemp(path.join((await import("node:os")).tmpdir(), "splicer-cli-"));
    try {
      const r = cli([], { SPLICER_SERVER: "http://127.0.0.1:9", SPLICER_STATE_DIR: dir, SPLICER_BACKEND: "simulate" });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain("no enrollment token");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
