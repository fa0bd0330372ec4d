import { describe, expect, it } from "vitest";
import { loadBuildWorkerConfig, loadConsoleBuildConfig } from "@/lib/builds/config";

const who = { hostname: "build-1", pid: 4242 };
const DB = "postgresql://splicer:pw@db.example:5432/splicer";

describe("a console's build configuration", () => {
  it("builds in-process by default, as before build workers existed", () => {
    expect(loadConsoleBuildConfig({}, who)).toEqual({
      workers: 2,
      run: { leaseMs: 30_000, timeoutMs: 1_800_000, stopGraceMs: 10_000, workerName: "console:build-1/4242" },
      builder: { builder: "simulate", simulateBuildMs: 1500 },
    });
  });

  it("SPLICER_BUILD_WORKERS=0 runs none, and then does not read (or refuse) the builder's settings", () => {
    const c = loadConsoleBuildConfig({ SPLICER_BUILD_WORKERS: "0", SPLICER_BUILDER: "command" }, who);
    expect(c).toMatchObject({ workers: 0, builder: null });
    expect(() => loadConsoleBuildConfig({ SPLICER_BUILD_WORKERS: "1", SPLICER_BUILDER: "command" }, who)).toThrow(/SPLICER_BUILDER=command needs SPLICER_BUILD_COMMAND/);
  });

  it("caps the stop grace: the console's whole shutdown has 20 s", () => {
    expect(loadConsoleBuildConfig({ SPLICER_BUILD_STOP_GRACE_SEC: "120" }, who).run.stopGraceMs).toBe(10_000);
    expect(loadConsoleBuildConfig({ SPLICER_BUILD_STOP_GRACE_SEC: "3" }, who).run.stopGraceMs).toBe(3_000);
  });
});

describe("a build worker's configuration", () => {
  it("needs the console's database; the rest has defaults", () => {
    expect(loadBuildWorkerConfig({ DATABASE_URL: DB }, who)).toEqual({
      databaseUrl: DB,
      dataDir: expect.stringMatching(/\/\.data$/),
      concurrency: 1,
      run: { leaseMs: 30_000, timeoutMs: 1_800_000, stopGraceMs: 60_000, workerName: "build-1/4242" },
      builder: { builder: "simulate", simulateBuildMs: 1500 },
    });
  });

  it("reads its name, cache, concurrency, lease, grace and builder", () => {
    const c = loadBuildWorkerConfig(
      {
        DATABASE_URL: DB,
        SPLICER_DATA_DIR: "/var/cache/splicer",
        SPLICER_BUILD_CONCURRENCY: "4",
        SPLICER_BUILD_WORKER_NAME: "rack2-builder.7",
        SPLICER_BUILD_LEASE_SEC: "12",
        SPLICER_BUILD_STOP_GRACE_SEC: "0",
        SPLICER_BUILD_TIMEOUT_SEC: "600",
        SPLICER_BUILDER: "kbuild",
        SPLICER_KERNEL_CACHE_DIR: "/var/cache/splicer/kernels",
      },
      who,
    );
    expect(c).toMatchObject({
      dataDir: "/var/cache/splicer",
      concurrency: 4,
      run: { leaseMs: 12_000, timeoutMs: 600_000, stopGraceMs: 0, workerName: "rack2-builder.7" },
      builder: { builder: "kbuild", cacheDir: "/var/cache/splicer/kernels", timeoutMs: 600_000 },
    });
  });

  it.each([
    [{}, /DATABASE_URL is required: the console's PostgreSQL/],
    [{ DATABASE_URL: "  " }, /DATABASE_URL is required/],
    [{ DATABASE_URL: "mysql://x/y" }, /DATABASE_URL must be a postgresql:\/\/ URL/],
    [{ DATABASE_URL: DB, SPLICER_BUILD_CONCURRENCY: "0" }, /SPLICER_BUILD_CONCURRENCY/],
    [{ DATABASE_URL: DB, SPLICER_BUILD_CONCURRENCY: "1.5" }, /SPLICER_BUILD_CONCURRENCY/],
    [{ DATABASE_URL: DB, SPLICER_BUILD_LEASE_SEC: "0" }, /SPLICER_BUILD_LEASE_SEC/],
    [{ DATABASE_URL: DB, SPLICER_BUILD_STOP_GRACE_SEC: "-1" }, /SPLICER_BUILD_STOP_GRACE_SEC/],
    [{ DATABASE_URL: DB, SPLICER_BUILD_WORKER_NAME: "two words" }, /SPLICER_BUILD_WORKER_NAME/],
    [{ DATABASE_URL: DB, SPLICER_BUILDER: "docker" }, /bad builder configuration[\s\S]*SPLICER_BUILDER/],
  ])("refuses %j, naming the setting", (env, message) => {
    expect(() => loadBuildWorkerConfig(env, who)).toThrow(message);
  });

  it("names every bad setting at once: its own and the builder's", () => {
    expect(() => loadBuildWorkerConfig({ SPLICER_BUILD_CONCURRENCY: "lots", SPLICER_BUILDER: "command" }, who)).toThrow(
      /DATABASE_URL[\s\S]*SPLICER_BUILD_CONCURRENCY[\s\S]*SPLICER_BUILDER=command needs/,
    );
  });
});
