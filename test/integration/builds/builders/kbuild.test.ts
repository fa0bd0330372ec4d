// The kbuild builder's honest outcomes on a real Debian release (6.1.0-56-amd64, prepared with apt
// in the shared kernel cache): what it refuses and why, without a console or a guest. The run-pre
// cases give the builder R's shipped code altered in the replaced function (a vmlinux and a
// module's .ko), as when the source, config or compiler are not what built R: the build must be
// refused naming the function, never shipped. Skipped where apt does not know the release, except in CI.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKbuildBuilder, type KernelReleases, type ReleaseTree } from "@/lib/builds/builders/kbuild";
import { kernelReleases } from "@/lib/builds/kbuild/releases";
import { prepareRelease } from "@/lib/builds/release";
import { BuildFailure, type Builder, type BuildRequest, type BuiltArtifact } from "@/lib/builds/types";
import { readElf, writeElf } from "@/lib/livepatch/elf";
import { VmlinuxCode } from "@/lib/livepatch/run-pre";
import { analysePatch } from "@/lib/analysis/analysis";
import { ROOT } from "../../../helpers/console";
import { KERNEL_CACHE_DIR, releaseUnavailable } from "../../../helpers/kernels";

const RELEASE = "6.1.0-56-amd64";
const fixture = (name: string) => fs.readFileSync(path.join(ROOT, "test/fixtures", name), "utf8");

const skip = releaseUnavailable(RELEASE);

let scratch: string;
let tree: ReleaseTree;
const releases = kernelReleases({ cacheDir: KERNEL_CACHE_DIR });

/** R as prepared, with some of what the builder reads of its binaries replaced. */
function alteredRelease(over: Partial<Pick<ReleaseTree, "vmlinuxImage" | "modulePath">>): KernelReleases {
  return { prepare: async (o) => ({ ...(await releases.prepare(o)), ...over }) };
}

async function build(builder: Builder, diff: string, lines: string[] = [], over: Partial<BuildRequest> = {}): Promise<BuiltArtifact> {
  const workDir = fs.mkdtempSync(path.join(scratch, "build-"));
  return builder.build({
    ...over,
    buildId: "00000000-0000-4000-8000-000000000010",
    patchId: "00000000-0000-4000-8000-000000000011",
    kernelRelease: RELEASE,
    diff,
    analysis: await analysePatch(diff),
    workDir,
    signal: new AbortController().signal,
    log: (l) => lines.push(l),
  });
}

async function failure(p: Promise<unknown>): Promise<BuildFailure> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, "the build must fail").toBeInstanceOf(BuildFailure);
  return err as BuildFailure;
}

/** A one-file diff of R's own source, git-style, changing `from` to `to` in `file`. */
function diffOf(file: string, from: string, to: string): string {
  const before = fs.readFileSync(path.join(tree.tree, file), "utf8");
  expect(before, `${file} has ${JSON.stringify(from)}`).toContain(from);
  const a = path.join(scratch, "a.c");
  const b = path.join(scratch, "b.c");
  fs.writeFileSync(a, before);
  fs.writeFileSync(b, before.replace(from, to));
  try {
    execFileSync("diff", ["-up", "--label", `a/${file}`, "--label", `b/${file}`, a, b]);
  } catch (err) {
    const e = err as { status?: number; stdout?: Buffer };
    if (e.status === 1 && e.stdout) return e.stdout.toString("utf8");
    throw err;
  }
  throw new Error("no difference");
}

/** A diff deleting `file` of R's source, as git and `diff -upN --label /dev/null` write it. */
function deletionOf(file: string): string {
  const before = path.join(tree.tree, file);
  expect(fs.existsSync(before), `${file} is in R's source`).toBe(true);
  try {
    execFileSync("diff", ["-upN", "--label", `a/${file}`, "--label", "/dev/null", before, "/dev/null"]);
  } catch (err) {
    const e = err as { status?: number; stdout?: Buffer };
    if (e.status === 1 && e.stdout) return e.stdout.toString("utf8");
    throw err;
  }
  throw new Error("no difference");
}

/** XORs the bytes of a function past its 5-byte ftrace call: code no compile of R's source gives. */
const scramble = (bytes: Buffer) => {
  for (let i = 5; i < bytes.length; i++) bytes[i] = (bytes[i] as number) ^ 0x5a;
};

describe.skipIf(skip)(`the kbuild builder's outcomes on ${RELEASE}${skip ? " (skipped: apt does not know it)" : ""}`, () => {
  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-kbuild-it-"));
    tree = await releases.prepare({ release: RELEASE, signal: new AbortController().signal, log: () => {} });
  }, 20 * 60_000);
  afterAll(() => {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  it("builds the /proc/cmdline patch against the unaltered release (the control for the run-pre cases)", async () => {
    const lines: string[] = [];
    const a = await build(createKbuildBuilder({ releases }), fixture("kernel/proc-cmdline-saved-command-line.diff"), lines);
    expect(a.report?.replaced).toEqual([{ object: "vmlinux", function: "cmdline_proc_show", sympos: 0, file: "fs/proc/cmdline.c" }]);
    expect(lines.join("\n")).toContain("run-pre: cmdline_proc_show matches");
  }, 300_000);

  it("builds a later patch of the same function on top of the earlier one: its code carries both fixes, run-pre checks R's own code; it never builds without the earlier fix", async () => {
    const earlierDiff = fixture("kernel/proc-cmdline-saved-command-line.diff");
    const earlier = await build(createKbuildBuilder({ releases }), earlierDiff);
    const base = { patchId: "00000000-0000-4000-8000-0000000000a1", title: "proc: marker after the command line", diff: earlierDiff, replaced: earlier.report!.replaced };
    const lines: string[] = [];
    const stacked = await build(createKbuildBuilder({ releases }), fixture("kernel/proc-cmdline-stacked.diff"), lines, { earlier: [base] });
    const log = lines.join("\n");
    expect(stacked.report?.replaced).toEqual([{ object: "vmlinux", function: "cmdline_proc_show", sympos: 0, file: "fs/proc/cmdline.c" }]);
    expect(stacked.report?.includes).toEqual([{ patchId: base.patchId, title: base.title, functions: ["cmdline_proc_show"] }]);
    expect(log).toContain(`fs/proc/cmdline.c: applied first the earlier patch built for ${RELEASE} that change it: "${base.title}"`);
    expect(log).toContain("run-pre: cmdline_proc_show matches");
    expect(log).toContain(`built on top of "${base.title}": both change cmdline_proc_show`);
    // Both fixes are in the replacement's code (their strings in the module's rodata).
    expect(stacked.bytes.includes("%s splicer-marker")).toBe(true);
    expect(stacked.bytes.includes(" splicer-stacked")).toBe(true);

    // Without the earlier patch its diff does not apply to R: never built as if it were alone.
    const alone = await failure(build(createKbuildBuilder({ releases }), fixture("kernel/proc-cmdline-stacked.diff")));
    expect(alone.message).toMatch(/does not apply/);
    // A diff written against R alone that changes the earlier patch's lines: refused, naming it.
    const rival = diffOf("fs/proc/cmdline.c", "seq_puts(m, saved_command_line);", 'seq_printf(m, "%s rival", saved_command_line);');
    const clash = await failure(build(createKbuildBuilder({ releases }), rival, [], { earlier: [base] }));
    expect(clash.message).toMatch(new RegExp(`applies to ${RELEASE}'s own source but not on top of the earlier patch "${base.title}"`));
  }, 300_000);

  it("refuses, naming the function, when vmlinux's cmdline_proc_show is not what R's source compiles to", async () => {
    const prepared = await prepareRelease({ release: RELEASE, cacheDir: KERNEL_CACHE_DIR, signal: new AbortController().signal, log: () => {} });
    const [sym] = (await prepared.symbols()).byName("cmdline_proc_show");
    expect(sym).toBeDefined();
    const image = fs.readFileSync(tree.vmlinuxImage);
    const code = new VmlinuxCode(image).read(sym!.address, Number(sym!.size));
    expect(code).toBeDefined();
    scramble(code!); // a view of `image`
    const altered = path.join(scratch, "vmlinux");
    fs.writeFileSync(altered, image);

    const lines: string[] = [];
    const err = await failure(build(createKbuildBuilder({ releases: alteredRelease({ vmlinuxImage: altered }) }), fixture("kernel/proc-cmdline-saved-command-line.diff"), lines));
    expect(err.reason).toBe("refused");
    expect(err.message).toMatch(/run-pre check: .*cmdline_proc_show/);
    expect(lines.join("\n")).not.toMatch(/^built /m);
  }, 300_000);

  it("refuses, naming the function, when the module's shipped nfsd4_sequence is not what R's source compiles to", async () => {
    const shipped = await tree.modulePath("nfsd");
    expect(shipped).toBeDefined();
    const obj = readElf(fs.readFileSync(shipped!));
    const fn = obj.symbols.find((s) => s.name === "nfsd4_sequence" && s.section);
    expect(fn).toBeDefined();
    const start = Number(fn!.value);
    scramble(fn!.section!.data.subarray(start, start + Number(fn!.size)));
    const altered = path.join(scratch, "nfsd.ko");
    fs.writeFileSync(altered, writeElf(obj));

    const builder = createKbuildBuilder({ releases: alteredRelease({ modulePath: async (name) => (name === "nfsd" ? altered : tree.modulePath(name)) }) });
    const err = await failure(build(builder, fixture("debian/6.1.192-2_6.1.192-3.diff")));
    expect(err.reason).toBe("refused");
    expect(err.message).toMatch(/run-pre check: .*nfsd4_sequence/);
  }, 300_000);

  it("says a fix already in R's source is already fixed, without compiling", async () => {
    // 6.1.0-56 runs Debian 6.1.192-2, the ext4 security update itself.
    const lines: string[] = [];
    const err = await failure(build(createKbuildBuilder({ releases }), fixture("debian/6.1.192-1_6.1.192-2.diff"), lines));
    expect(err.reason).toBe("already_fixed");
    expect(err.message).toContain("fs/ext4/mballoc.c");
    expect(err.message).toContain("Debian 6.1.192-2");
    expect(lines.join("\n")).not.toMatch(/compiled /);
  }, 300_000);

  it("says a file R's config does not build is not built in R (ntfs3: CONFIG_NTFS3_FS is not set)", async () => {
    expect(fs.readFileSync(path.join(tree.tree, ".config"), "utf8")).toContain("# CONFIG_NTFS3_FS is not set");
    const diff = diffOf("fs/ntfs3/super.c", "static void ntfs_put_super(struct super_block *sb)\n{", "static void ntfs_put_super(struct super_block *sb)\n{\n\tsb->s_flags |= SB_RDONLY;");
    const lines: string[] = [];
    const err = await failure(build(createKbuildBuilder({ releases }), diff, lines));
    expect(err.reason, lines.join("\n")).toBe("not_built");
    expect(err.message).toContain("fs/ntfs3/super.c");
  }, 300_000);

  it("refuses to delete a file whose code R runs, naming the file and where its code is", async () => {
    const lines: string[] = [];
    const err = await failure(build(createKbuildBuilder({ releases }), deletionOf("fs/proc/cmdline.c"), lines));
    expect(err.reason, lines.join("\n")).toBe("refused");
    expect(err.message).toContain("fs/proc/cmdline.c is deleted by the patch, but 6.1.0-56-amd64 runs its code (in vmlinux)");
  }, 300_000);

  it("says a file the patch deletes is not built in R when R's config leaves it out (ntfs3)", async () => {
    const lines: string[] = [];
    const err = await failure(build(createKbuildBuilder({ releases }), deletionOf("fs/ntfs3/super.c"), lines));
    expect(err.reason, lines.join("\n")).toBe("not_built");
    expect(err.message).toContain("fs/ntfs3/super.c");
  }, 300_000);

  it("says a file the patch deletes is already gone from R's source (6.1.192 removed the old ntfs driver)", async () => {
    const diff = ["--- a/fs/ntfs/super.c", "+++ /dev/null", "@@ -1,2 +0,0 @@", "-// SPDX-License-Identifier: GPL-2.0-or-later", "-/*", ""].join("\n");
    const err = await failure(build(createKbuildBuilder({ releases }), diff));
    expect(err.reason).toBe("already_fixed");
    expect(err.message).toContain("fs/ntfs/super.c");
  }, 300_000);

  it("says a file the patch adds is not built in R: no build of R compiles it", async () => {
    const diff = ["--- /dev/null", "+++ b/drivers/misc/splicer_new.c", "@@ -0,0 +1,2 @@", "+// SPDX-License-Identifier: GPL-2.0", "+int splicer_new(void) { return 1; }", ""].join("\n");
    const lines: string[] = [];
    const err = await failure(build(createKbuildBuilder({ releases }), diff, lines));
    expect(err.reason).toBe("not_built");
    expect(err.message).toContain("drivers/misc/splicer_new.c is a new file");
    expect(lines.join("\n")).not.toMatch(/compiled /);
  }, 300_000);

  it("says a fix that needs more than its diff does not compile alone, naming what is missing", async () => {
    const diff = diffOf("fs/proc/cmdline.c", "seq_putc(m, '\\n');", "splicer_helper_from_another_patch(m);");
    const err = await failure(build(createKbuildBuilder({ releases }), diff));
    expect(err.reason).toBe("does_not_compile");
    expect(err.message).toContain("splicer_helper_from_another_patch");
  }, 300_000);
});
