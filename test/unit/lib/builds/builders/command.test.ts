import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createCommandBuilder, type CommandBuilderOptions } from "@/lib/builds/builders/command";
import { BuildFailure } from "@/lib/builds/types";
import { request } from "./helpers";
import { rejectionOf } from "../../../../helpers/rejection";

const fake = (name: string) => path.join(import.meta.dirname, "fake-builders", name);
const RELEASE = "6.8.0-45-generic";

let root: string;
let workDir: string;
let opts: Omit<CommandBuilderOptions, "command">;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "splicer-cmd-builder-"));
  workDir = path.join(root, "work");
  await mkdir(workDir);
  await mkdir(path.join(root, "src", `linux-${RELEASE}`), { recursive: true });
  await mkdir(path.join(root, "debug"));
  await writeFile(path.join(root, "debug", `vmlinux-${RELEASE}`), "\x7fELF debug");
  opts = {
    kernelSourceTemplate: path.join(root, "src", "linux-{release}"),
    debugInfoTemplate: path.join(root, "debug", "vmlinux-{release}"),
    timeoutMs: 10_000,
  };
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const failure = (p: Promise<unknown>) => rejectionOf(p, BuildFailure);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A killed process whose parent died may linger as a zombie until reaped: that is dead.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

describe("command builder", () => {
  it("runs the builder with the diff, release and resolved paths, streams its log and returns the .ko", async () => {
    const builder = createCommandBuilder({ ...opts, command: [fake("success.sh")] });
    expect(builder.name).toBe("command");
    const diff = "diff --git a/fs/proc/cmdline.c b/fs/proc/cmdline.c\n--- a/x\n+++ b/x\n";
    process.env.SPLICER_ADMIN_PASSWORD = "secret-password-123";
    const req = request({ workDir, diff });
    let art;
    try {
      art = await builder.build(req);
    } finally {
      delete process.env.SPLICER_ADMIN_PASSWORD;
    }

    expect(art.fileName).toBe("livepatch-6f1a2b3c4d5e.ko");
    expect(art.moduleName).toBe("livepatch_6f1a2b3c4d5e");
    expect(art.bytes.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
    expect(art.bytes.toString("latin1")).toContain(`fake livepatch module for ${RELEASE}`);

    // The work dir received the diff.
    expect(await readFile(path.join(workDir, "patch.diff"), "utf8")).toBe(diff);

    const src = path.join(root, "src", `linux-${RELEASE}`);
    const dbg = path.join(root, "debug", `vmlinux-${RELEASE}`);
    const out = path.join(workDir, "out");
    const diffPath = path.join(workDir, "patch.diff");
    const lines = req.lines;
    expect(lines[0]).toMatch(/^\$ .*success\.sh --sourcedir /);
    // kpatch-build style arguments...
    expect(lines).toContain(
      `args: --sourcedir ${src} --vmlinux ${dbg} --archversion ${RELEASE} --name livepatch_6f1a2b3c4d5e --output ${out} ${diffPath}`,
    );
    // ...and the same in the environment.
    expect(lines).toContain(`release=${RELEASE} source=${src} debuginfo=${dbg}`);
    expect(lines).toContain(`workdir=${workDir} diff=${diffPath} out=${out} module=livepatch_6f1a2b3c4d5e`);
    // stderr is part of the log; the console's secrets are not passed on.
    expect(lines).toContain("Building original source");
    expect(lines).toContain("leaked=none");
    expect(lines).toContain("SUCCESS");
    expect(lines.at(-1)).toMatch(/^built livepatch-6f1a2b3c4d5e\.ko/);
  });

  it("passes fixed arguments before its own and extra env; omits --vmlinux without a debug-info template", async () => {
    const builder = createCommandBuilder({
      kernelSourceTemplate: opts.kernelSourceTemplate,
      command: [fake("success.sh"), "--skip-gcc-check"],
      env: { FAKE_KO_NAME: "kpatch-cve-2024-1086" },
    });
    const req = request({ workDir });
    const art = await builder.build(req);
    expect(art.fileName).toBe("kpatch-cve-2024-1086.ko");
    expect(art.moduleName).toBe("kpatch_cve_2024_1086");
    const args = req.lines.find((l) => l.startsWith("args: "))!;
    expect(args).toMatch(/^args: --skip-gcc-check --sourcedir \S+ --archversion /);
    expect(args).not.toContain("--vmlinux");
    expect(req.lines).toContain(`release=${RELEASE} source=${path.join(root, "src", `linux-${RELEASE}`)} debuginfo=`);
  });

  it("records a non-zero exit as failed, with the last lines of output", async () => {
    const builder = createCommandBuilder({ ...opts, command: [fake("failure.sh")] });
    const req = request({ workDir });
    const err = await failure(builder.build(req));
    expect(err.reason).toBe("failed");
    expect(err.message).toMatch(/^build command exited with status 2:\n/);
    expect(err.message).toContain("error: 'foo' undeclared");
    expect(err.message).toContain("ERROR: patched kernel build failed.");
    expect(req.lines).toContain("Building patched source");
    expect(req.lines).toContain("ERROR: patched kernel build failed.");
  });

  it("kills the whole process group on timeout", async () => {
    const builder = createCommandBuilder({ ...opts, command: [fake("hang.sh")], timeoutMs: 500 });
    const req = request({ workDir });
    const t0 = performance.now();
    const err = await failure(builder.build(req));
    expect(performance.now() - t0).toBeLessThan(2500);
    expect(err.reason).toBe("timeout");
    expect(err.message).toMatch(/timed out after 500 ms/);
    expect(req.lines).toContain("compiling forever");
    const childPid = Number(await readFile(path.join(workDir, "child.pid"), "utf8"));
    expect(childPid).toBeGreaterThan(0);
    await expect.poll(() => alive(childPid), { timeout: 1000 }).toBe(false);
  });

  it("kills the build on abort", async () => {
    const builder = createCommandBuilder({ ...opts, command: [fake("hang.sh")] });
    const ac = new AbortController();
    const req = request({ workDir, signal: ac.signal });
    setTimeout(() => ac.abort(), 300);
    const t0 = performance.now();
    const err = await failure(builder.build(req));
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(err.reason).toBe("timeout");
    expect(err.message).toMatch(/aborted/);
    const childPid = Number(await readFile(path.join(workDir, "child.pid"), "utf8"));
    await expect.poll(() => alive(childPid), { timeout: 1000 }).toBe(false);
  });

  it.each([
    ["not-elf", /livepatch-x\.ko is not an ELF object/],
    ["empty", /livepatch-x\.ko is not an ELF object \(0 bytes/],
    ["two", /several \.ko files \(a\.ko, b\.ko\)/],
    ["none", /produced no \.ko/],
    ["bad-name", /not a valid module file name/],
  ])("rejects garbage output (%s) as bad_output", async (mode, message) => {
    const builder = createCommandBuilder({ ...opts, command: [fake("garbage.sh"), mode] });
    const req = request({ workDir });
    const err = await failure(builder.build(req));
    expect(err.reason).toBe("bad_output");
    expect(err.message).toMatch(message);
    expect(req.lines).toContain(`garbage mode ${mode}`);
  });

  it("caps the log and marks the truncation", async () => {
    const builder = createCommandBuilder({ ...opts, command: [fake("noisy.sh")], maxLogBytes: 1000 });
    const req = request({ workDir });
    const err = await failure(builder.build(req));
    expect(err.reason).toBe("failed");
    expect(err.message).toContain("final error line"); // the tail survives the cap
    const logged = req.lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    expect(logged).toBeLessThan(2000);
    expect(req.lines).toContain("[build log truncated: output beyond 1000 bytes not shown]");
    expect(req.lines.filter((l) => l.startsWith("[build log truncated"))).toHaveLength(1);
  });

  it("fails (not retried) when there is no kernel source for the release", async () => {
    const builder = createCommandBuilder({ ...opts, command: [fake("success.sh")] });
    const err = await failure(builder.build(request({ workDir, kernelRelease: "5.15.0-1-generic" })));
    expect(err.reason).toBe("failed");
    expect(err.message).toBe(`no kernel source for 5.15.0-1-generic at ${path.join(root, "src", "linux-5.15.0-1-generic")}`);
  });

  it("fails when the debug info for the release is missing", async () => {
    await rm(path.join(root, "debug", `vmlinux-${RELEASE}`));
    const builder = createCommandBuilder({ ...opts, command: [fake("success.sh")] });
    const err = await failure(builder.build(request({ workDir })));
    expect(err.reason).toBe("failed");
    expect(err.message).toMatch(/^no debug info \(vmlinux\) for 6\.8\.0-45-generic at /);
  });

  it("refuses a patch of a file an earlier built patch changes: it cannot tell whether loading it would undo that fix", async () => {
    const builder = createCommandBuilder({ ...opts, command: [fake("success.sh")] });
    const earlier = [{ patchId: "00000000-0000-4000-8000-0000000000a1", title: "proc: first marker", diff: "", replaced: [{ object: "vmlinux", function: "cmdline_proc_show" }] }];
    const req = request({ workDir, earlier });
    const err = await failure(builder.build(req));
    expect(err.reason).toBe("refused");
    expect(err.message).toMatch(/"proc: first marker", built for 6\.8\.0-45-generic before this patch, changes the same file/);
    expect(req.lines.join("\n")).not.toContain("success"); // the external builder never ran
  });

  it("refuses a kernel release that could escape the path template", async () => {
    const builder = createCommandBuilder({ ...opts, command: [fake("success.sh")] });
    const err = await failure(builder.build(request({ workDir, kernelRelease: "../../etc" })));
    expect(err.reason).toBe("refused");
  });

  it("treats a missing command binary as an infrastructure error (plain Error, retried)", async () => {
    const builder = createCommandBuilder({ ...opts, command: [path.join(root, "no-such-kpatch-build")] });
    const err = await builder.build(request({ workDir })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(BuildFailure);
    expect((err as Error).message).toMatch(/cannot run build command .*no-such-kpatch-build: .*ENOENT/);
  });

  it("rejects an empty command at construction", () => {
    expect(() => createCommandBuilder({ ...opts, command: [] })).toThrow(/non-empty argv/);
  });
});
