import { describe, expect, it } from "vitest";
import { createBuilder, loadBuilderConfig } from "@/lib/builds/builders";

describe("builder configuration", () => {
  it("defaults to the simulate builder", () => {
    expect(loadBuilderConfig({})).toEqual({ builder: "simulate", simulateBuildMs: 1500 });
    expect(loadBuilderConfig({ SPLICER_BUILDER: "", SPLICER_SIMULATE_BUILD_MS: "200" })).toEqual({
      builder: "simulate",
      simulateBuildMs: 200,
    });
    expect(createBuilder(loadBuilderConfig({})).name).toBe("simulate");
  });

  it("reads the command builder from a JSON argv or a single path", () => {
    const env = {
      SPLICER_BUILDER: "command",
      SPLICER_BUILD_COMMAND: '["kpatch-build", "--skip-gcc-check"]',
      SPLICER_KERNEL_SOURCE_TEMPLATE: "/usr/src/linux-source-{release}",
      SPLICER_DEBUGINFO_TEMPLATE: "/usr/lib/debug/boot/vmlinux-{release}",
    };
    expect(loadBuilderConfig(env)).toEqual({
      builder: "command",
      command: ["kpatch-build", "--skip-gcc-check"],
      kernelSourceTemplate: "/usr/src/linux-source-{release}",
      debugInfoTemplate: "/usr/lib/debug/boot/vmlinux-{release}",
      timeoutMs: 1_800_000,
    });
    const single = loadBuilderConfig({
      ...env,
      SPLICER_BUILD_COMMAND: "/opt/splicer/build livepatch.sh",
      SPLICER_DEBUGINFO_TEMPLATE: "",
      SPLICER_BUILD_TIMEOUT_SEC: "90",
    });
    expect(single).toEqual({
      builder: "command",
      command: ["/opt/splicer/build livepatch.sh"],
      kernelSourceTemplate: "/usr/src/linux-source-{release}",
      timeoutMs: 90_000,
    });
    expect(createBuilder(single).name).toBe("command");
  });

  it("reads the kbuild builder: nothing needed on Debian (apt), a cache and other distributions' releases optional", () => {
    expect(loadBuilderConfig({ SPLICER_BUILDER: "kbuild" })).toEqual({ builder: "kbuild", timeoutMs: 1_800_000 });
    const custom = loadBuilderConfig({
      SPLICER_BUILDER: "kbuild",
      SPLICER_KERNEL_CACHE_DIR: "/var/cache/splicer/kernels",
      SPLICER_KERNEL_RELEASES_DIR: "/srv/kernels",
      SPLICER_BUILD_TIMEOUT_SEC: "600",
    });
    expect(custom).toEqual({ builder: "kbuild", cacheDir: "/var/cache/splicer/kernels", releasesDir: "/srv/kernels", timeoutMs: 600_000 });
    expect(createBuilder(custom, { dataDir: "/tmp/data" }).name).toBe("kbuild");
  });

  it.each([
    [{ SPLICER_BUILDER: "docker" }, /SPLICER_BUILDER/],
    [{ SPLICER_BUILDER: "command", SPLICER_KERNEL_SOURCE_TEMPLATE: "/usr/src/{release}" }, /needs SPLICER_BUILD_COMMAND/],
    [{ SPLICER_BUILDER: "command", SPLICER_BUILD_COMMAND: "kpatch-build" }, /needs SPLICER_KERNEL_SOURCE_TEMPLATE/],
    [
      { SPLICER_BUILDER: "command", SPLICER_BUILD_COMMAND: "[kpatch-build", SPLICER_KERNEL_SOURCE_TEMPLATE: "/s/{release}" },
      /not valid JSON/,
    ],
    [{ SPLICER_BUILDER: "command", SPLICER_BUILD_COMMAND: "[]", SPLICER_KERNEL_SOURCE_TEMPLATE: "/s/{release}" }, /empty array/],
    [{ SPLICER_BUILDER: "command", SPLICER_BUILD_COMMAND: "[1]", SPLICER_KERNEL_SOURCE_TEMPLATE: "/s/{release}" }, /SPLICER_BUILD_COMMAND/],
    [{ SPLICER_BUILDER: "command", SPLICER_BUILD_COMMAND: "k", SPLICER_KERNEL_SOURCE_TEMPLATE: "/usr/src/linux" }, /must contain \{release\}/],
    [{ SPLICER_DEBUGINFO_TEMPLATE: "/vmlinux" }, /SPLICER_DEBUGINFO_TEMPLATE must contain \{release\}/],
    [{ SPLICER_BUILD_TIMEOUT_SEC: "soon" }, /SPLICER_BUILD_TIMEOUT_SEC/],
    [{ SPLICER_BUILD_TIMEOUT_SEC: "0" }, /SPLICER_BUILD_TIMEOUT_SEC/],
    [{ SPLICER_SIMULATE_BUILD_MS: "-5" }, /SPLICER_SIMULATE_BUILD_MS/],
  ])("rejects bad configuration %j", (env, message) => {
    expect(() => loadBuilderConfig(env)).toThrow(/^bad builder configuration/);
    expect(() => loadBuilderConfig(env)).toThrow(message);
  });
});
