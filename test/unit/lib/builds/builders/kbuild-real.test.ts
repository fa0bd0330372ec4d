import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createKbuildBuilder } from "@/lib/builds/builders/kbuild";
import { livepatchModuleName } from "@/lib/builds/builders/module-name";
import { BuildFailure } from "@/lib/builds/types";
import { analysePatch } from "@/lib/patches/analysis";
import { PATCH_ID, request } from "./helpers";

// The kbuild builder with the real compiler, real Debian headers and Debian's real kernel source:
// a .ko that modinfo reads as a livepatch module for the release. Needs linux-headers-6.1.0-50-amd64,
// linux-source-6.1, gcc and make; skipped without them, except in CI, which installs them.

const RELEASE = "6.1.0-50-amd64";
const SOURCE = "/usr/src/linux-source-6.1.tar.xz";
const headersDir = (release: string) => `/usr/src/linux-headers-${release}`;
const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, "../../patches/fixtures", name), "utf8");

function onPath(program: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${program}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const modinfoBin = ["/usr/sbin/modinfo", "/sbin/modinfo"].find((p) => existsSync(p)) ?? "modinfo";
const missing = [
  ...(existsSync(path.join(headersDir(RELEASE), "Module.symvers")) ? [] : [`linux-headers-${RELEASE}`]),
  ...(existsSync(SOURCE) ? [] : ["linux-source-6.1"]),
  ...["make", "gcc"].filter((p) => !onPath(p)),
  ...(existsSync(modinfoBin) || onPath("modinfo") ? [] : ["kmod (modinfo)"]),
];
const inCI = process.env.CI === "true";
const skip = missing.length > 0 && !inCI;
const why = missing.length > 0 ? ` (SKIPPED: install ${missing.join(", ")})` : "";
// Another installed release, for "each release is built against its own headers".
const second = existsSync("/usr/src")
  ? readdirSync("/usr/src")
      .map((d) => /^linux-headers-(6\.1\.0-\d+-amd64)$/.exec(d)?.[1])
      .find((r): r is string => !!r && r !== RELEASE && existsSync(path.join(headersDir(r), "Module.symvers")))
  : undefined;
// A cache that outlives the test run: extracting from the tarball takes ~15 s the first time.
const cacheDir = path.join(os.tmpdir(), "splicer-kbuild-test-cache");

function modinfo(file: string): Record<string, string> {
  const out = execFileSync(modinfoBin, [file], { encoding: "utf8" });
  return Object.fromEntries(out.split("\n").filter(Boolean).map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]));
}

async function build(release: string, diffName: string) {
  const diff = fixture(diffName);
  const workDir = await mkdtemp(path.join(os.tmpdir(), "splicer-kbuild-real-"));
  const r = request({ diff, analysis: await analysePatch(diff), kernelRelease: release, workDir });
  const builder = createKbuildBuilder({ kernelSourceTemplate: SOURCE, cacheDir, timeoutMs: 170_000 });
  const started = Date.now();
  try {
    const art = await builder.build(r);
    const file = path.join(workDir, art.fileName);
    await writeFile(file, art.bytes);
    const info = modinfo(file);
    const builtLine = r.lines.find((l) => l.startsWith("built "));
    console.log(`${release}: ${builtLine} (whole build ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return { art, info, lines: r.lines };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

describe("kbuild builder, real kernel headers", () => {
  it.skipIf(skip)(`builds cmdline-marker.diff into a livepatch .ko for ${RELEASE} that modinfo reads${why}`, { timeout: 180_000 }, async () => {
    expect(missing, `CI must install: ${missing.join(", ")}`).toEqual([]);
    const { art, info, lines } = await build(RELEASE, "cmdline-marker.diff");
    expect(art.moduleName).toBe(livepatchModuleName(PATCH_ID));
    expect(info.name).toBe(art.moduleName);
    expect(info.vermagic?.split(" ")[0]).toBe(RELEASE);
    expect(info.livepatch).toBe("Y");
    expect(info.license).toBe("GPL");
    expect(lines).toContain("replaces cmdline_proc_show() in vmlinux with livepatch_cmdline_proc_show() (fs/proc/cmdline.c)");
    // The new function's text is in the module.
    expect(art.bytes.includes(Buffer.from("splicer-patched\n"))).toBe(true);
  });

  it.skipIf(skip)(`refuses function-only-cmdline.diff against the real Module.symvers: saved_command_line is not exported${why}`, { timeout: 180_000 }, async () => {
    expect(missing, `CI must install: ${missing.join(", ")}`).toEqual([]);
    const err = await build(RELEASE, "function-only-cmdline.diff").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BuildFailure);
    expect((err as BuildFailure).reason).toBe("refused");
    expect((err as BuildFailure).message).toContain("cmdline_proc_show() uses saved_command_line, which the kernel does not export to modules");
  });

  it.skipIf(skip || !second)(
    `two releases, two builds, each against its own headers (${RELEASE} and ${second ?? "a second linux-headers-6.1.0-N-amd64: SKIPPED, none installed"})${why}`,
    { timeout: 180_000 },
    async () => {
      const a = await build(RELEASE, "cmdline-marker.diff");
      const b = await build(second as string, "cmdline-marker.diff");
      expect(a.info.vermagic?.split(" ")[0]).toBe(RELEASE);
      expect(b.info.vermagic?.split(" ")[0]).toBe(second);
      expect(a.art.bytes.equals(b.art.bytes)).toBe(false);
      expect(a.art.moduleName).toBe(b.art.moduleName);
    },
  );
});
