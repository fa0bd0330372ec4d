import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKbuildBuilder, type KbuildBuilderOptions } from "@/lib/builds/builders/kbuild";
import { BuildFailure } from "@/lib/builds/types";
import { analysePatch } from "@/lib/patches/analysis";
import { CMDLINE_C } from "../kbuild/sources";
import { request } from "./helpers";

// The kbuild builder against a small fake kernel: a source tarball with fs/proc and a sample
// driver, two releases' headers (Makefile, .config, Module.symvers, a header), and a fake make
// that writes a .ko naming the headers it was given. The real compiler is in kbuild-real.test.ts.

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, "../../patches/fixtures", name), "utf8");
const fakeMake = (mode: string) => [path.join(import.meta.dirname, "fake-make", "make.sh"), mode];
const RELEASES = ["6.1.0-50-amd64", "6.1.0-47-amd64"];

const SAMPLE_C = `// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>

static int sample_read(int v)
{
	return v;
}
`;
const SAMPLE_DIFF = `--- a/drivers/misc/sample.c
+++ b/drivers/misc/sample.c
@@ -3,5 +3,5 @@
 
 static int sample_read(int v)
 {
-	return v;
+	return v + 1;
 }
`;

let root: string;
let base: Omit<KbuildBuilderOptions, "make">;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "splicer-kbuild-"));
  const src = path.join(root, "linux-source-6.1");
  await mkdir(path.join(src, "fs", "proc"), { recursive: true });
  await mkdir(path.join(src, "drivers", "misc"), { recursive: true });
  await writeFile(path.join(src, "Makefile"), "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\n");
  await writeFile(path.join(src, "fs", "proc", "cmdline.c"), CMDLINE_C);
  await writeFile(path.join(src, "fs", "proc", "Makefile"), "obj-y += proc.o\nproc-y += cmdline.o\n");
  await writeFile(path.join(src, "drivers", "misc", "sample.c"), SAMPLE_C);
  await writeFile(path.join(src, "drivers", "misc", "Makefile"), "obj-$(CONFIG_SAMPLE) += sample.o\n");
  execFileSync("tar", ["-cJf", "linux-source-6.1.tar.xz", "linux-source-6.1"], { cwd: root });
  await rm(src, { recursive: true });
  for (const [i, release] of RELEASES.entries()) {
    const h = path.join(root, "headers", release);
    await mkdir(path.join(h, "include", "linux"), { recursive: true });
    await mkdir(path.join(h, "arch", "x86", "include"), { recursive: true });
    await writeFile(path.join(h, "Makefile"), `VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = ${i === 0 ? 176 : 170}\n`);
    await writeFile(path.join(h, ".config"), `CONFIG_LIVEPATCH=y\n${i === 0 ? "CONFIG_SAMPLE=m" : "# CONFIG_SAMPLE is not set"}\n`);
    await writeFile(path.join(h, "Module.symvers"), "0x1\tseq_puts\tvmlinux\tEXPORT_SYMBOL\t\n0x2\tseq_putc\tvmlinux\tEXPORT_SYMBOL\t\n");
    await writeFile(path.join(h, "include", "linux", "init.h"), "extern char *saved_command_line;\n");
  }
  base = {
    kernelSourceTemplate: path.join(root, "linux-source-6.1.tar.xz"),
    headersTemplate: path.join(root, "headers", "{release}"),
    cacheDir: path.join(root, "cache"),
    timeoutMs: 20_000,
  };
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<BuildFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BuildFailure);
  return err as BuildFailure;
}

async function req(diffName: string | { text: string }, release = RELEASES[0]!) {
  const diff = typeof diffName === "string" ? fixture(diffName) : diffName.text;
  const workDir = await mkdtemp(path.join(root, "work-"));
  return request({ diff, analysis: await analysePatch(diff), kernelRelease: release, workDir });
}

const makeCalls = (workDir: string) => (existsSync(path.join(workDir, "make-calls")) ? readFileSync(path.join(workDir, "make-calls"), "utf8").trim().split("\n") : []);

describe("kbuild builder", () => {
  it("builds once per release, each against its own headers, extracting the source once", async () => {
    const builder = createKbuildBuilder({ ...base, make: fakeMake("ok") });
    expect(builder.name).toBe("kbuild");
    const results = [];
    for (const release of RELEASES) {
      const r = await req("cmdline-marker.diff", release);
      const art = await builder.build(r);
      results.push({ r, art, release });
    }
    for (const { r, art, release } of results) {
      expect(art.moduleName).toBe("livepatch_6f1a2b3c4d5e");
      expect(art.fileName).toBe("livepatch_6f1a2b3c4d5e.ko");
      expect(art.bytes.toString("latin1")).toBe(`\x7fELF fake module livepatch_6f1a2b3c4d5e vermagic=${release}\n`);
      expect(makeCalls(r.workDir)).toEqual([path.join(root, "headers", release)]);
      const kbuild = await readFile(path.join(r.workDir, "module", "Kbuild"), "utf8");
      expect(kbuild).toMatch(/^obj-m := livepatch_6f1a2b3c4d5e\.o\nccflags-y \+= -I.*\/tree\/fs\/proc\n$/);
      const source = await readFile(path.join(r.workDir, "module", "livepatch_6f1a2b3c4d5e.c"), "utf8");
      expect(source).toContain("static int livepatch_cmdline_proc_show(struct seq_file *m, void *v)");
      expect(source).toContain(`live patch 6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b for ${release}`);
      // The log: make's own lines, the replaced function, the source/headers version mismatch.
      expect(r.lines).toContain("  CC [M]  " + path.join(r.workDir, "module", "livepatch_6f1a2b3c4d5e.o"));
      expect(r.lines).toContain("replaces cmdline_proc_show() in vmlinux with livepatch_cmdline_proc_show() (fs/proc/cmdline.c)");
      expect(r.lines.some((l) => l.startsWith(`warning: the source is Linux 6.1.192 but ${release} is 6.1.1`))).toBe(true);
    }
    expect(results[0]!.r.lines.some((l) => l.startsWith("extracting (top directory), fs/proc from "))).toBe(true);
    expect(results[1]!.r.lines.some((l) => l.startsWith("extracting"))).toBe(false);
  });

  it("refuses a patch that uses a symbol the kernel does not export, naming it, without running make", async () => {
    const builder = createKbuildBuilder({ ...base, make: fakeMake("ok") });
    const r = await req("function-only-cmdline.diff");
    const err = await failure(builder.build(r));
    expect(err.reason).toBe("refused");
    expect(err.message).toBe(
      "cannot live-patch with the kbuild builder: cmdline_proc_show() uses saved_command_line, which the kernel does not export to modules (declared in the headers, not in Module.symvers)",
    );
    expect(r.lines).toContain("refused: cmdline_proc_show() uses saved_command_line, which the kernel does not export to modules (declared in the headers, not in Module.symvers)");
    expect(makeCalls(r.workDir)).toEqual([]);
  });

  it("refuses what the analysis rules out (__init code, data changes) before reading any source", async () => {
    const builder = createKbuildBuilder({ ...base, kernelSourceTemplate: path.join(root, "missing-source.tar.xz"), make: fakeMake("ok") });
    const init = await req("init-function.diff");
    const err = await failure(builder.build(init));
    expect(err.reason).toBe("refused");
    expect(err.message).toMatch(/chr_dev_init\(\) is __init code/);
    const data = await failure(builder.build(await req("static-table-initializer.diff")));
    expect(data.reason).toBe("refused");
    expect(data.message).toMatch(/^cannot live-patch with the kbuild builder: requires a reboot: the initializer of/);
    expect(makeCalls(init.workDir)).toEqual([]);
  });

  it("names the owning module in klp_object from the Makefile and the release's .config; refuses a file the release does not build", async () => {
    const builder = createKbuildBuilder({ ...base, make: fakeMake("ok") });
    const r = await req({ text: SAMPLE_DIFF }, RELEASES[0]);
    await builder.build(r);
    const source = await readFile(path.join(r.workDir, "module", "livepatch_6f1a2b3c4d5e.c"), "utf8");
    expect(source).toContain('.name = "sample",');
    expect(r.lines).toContain("drivers/misc/sample.c is built into module sample (CONFIG_SAMPLE=m)");

    const not = await req({ text: SAMPLE_DIFF }, RELEASES[1]);
    const err = await failure(builder.build(not));
    expect(err.reason).toBe("refused");
    expect(err.message).toBe(`cannot live-patch with the kbuild builder: drivers/misc/sample.c is not built in ${RELEASES[1]} (CONFIG_SAMPLE is not set): there is nothing to patch`);
  });

  it("turns modpost's undefined symbols into a refusal naming them", async () => {
    const builder = createKbuildBuilder({ ...base, make: fakeMake("undefined") });
    const err = await failure(builder.build(await req("cmdline-marker.diff")));
    expect(err.reason).toBe("refused");
    expect(err.message).toBe("cannot live-patch with the kbuild builder: the new code uses secret_symbol, which the kernel does not export to modules (modpost: undefined)");
  });

  it("a compiler error fails the build with make's last lines", async () => {
    const builder = createKbuildBuilder({ ...base, make: fakeMake("fail") });
    const r = await req("cmdline-marker.diff");
    const err = await failure(builder.build(r));
    expect(err.reason).toBe("failed");
    expect(err.message).toMatch(/^make exited with status 2:\n[\s\S]*error: implicit declaration of function 'nope'$/);
    expect(r.lines.some((l) => l.includes("implicit declaration"))).toBe(true);
  });

  it("fails clearly without the release's headers, or when a hunk does not apply to the source", async () => {
    const builder = createKbuildBuilder({ ...base, make: fakeMake("ok") });
    const none = await failure(builder.build(await req("cmdline-marker.diff", "6.1.0-99-amd64")));
    expect(none.reason).toBe("failed");
    expect(none.message).toMatch(/^no usable kbuild headers for 6\.1\.0-99-amd64: no kbuild headers at .*6\.1\.0-99-amd64.* \(install linux-headers-6\.1\.0-99-amd64\)$/);

    const stale = fixture("cmdline-marker.diff").replace("-\tseq_putc(m, '\\n');", "-\tseq_putc(m, ' ');");
    const err = await failure(builder.build(await req({ text: stale })));
    expect(err.reason).toBe("failed");
    expect(err.message).toMatch(/^hunk 1 of fs\/proc\/cmdline\.c \(@@ -6,8 \+6,8 @@\) does not apply to this kernel's source/);
  });

  it("kills make's process group when the build is aborted", async () => {
    const builder = createKbuildBuilder({ ...base, make: fakeMake("hang") });
    const controller = new AbortController();
    const r = await req("cmdline-marker.diff");
    const pending = builder.build({ ...r, signal: controller.signal });
    const pidFile = path.join(r.workDir, "child-pid");
    for (let i = 0; i < 200 && !existsSync(pidFile); i++) await new Promise((res) => setTimeout(res, 25));
    const child = Number(readFileSync(pidFile, "utf8"));
    controller.abort();
    const err = await failure(pending);
    expect(err.reason).toBe("timeout");
    await new Promise((res) => setTimeout(res, 100));
    let alive = true;
    try {
      process.kill(child, 0);
      alive = !readFileSync(`/proc/${child}/stat`, "utf8").includes(") Z");
    } catch {
      alive = false;
    }
    expect(alive).toBe(false);
  });
});
