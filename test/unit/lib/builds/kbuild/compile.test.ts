import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { compilerErrors, objectFromCmd, withTree } from "@/lib/builds/kbuild/compile";

// Excerpts of kbuild's .<file>.o.cmd first lines, from Debian's 6.1.0-56-amd64 tree.
const BUILTIN = `cmd_fs/proc/cmdline.o := gcc -Wp,-MMD,fs/proc/.cmdline.o.d -nostdinc -D__KERNEL__ -O2 -DKBUILD_MODFILE='"fs/proc/proc"' -DKBUILD_BASENAME='"cmdline"' -DKBUILD_MODNAME='"proc"' -D__KBUILD_MODNAME=kmod_proc -c -o fs/proc/cmdline.o fs/proc/cmdline.c`;
const MODULE = `cmd_fs/nfsd/nfs4state.o := gcc -Wp,-MMD,fs/nfsd/.nfs4state.o.d -nostdinc -D__KERNEL__ -O2 -DMODULE -DKBUILD_BASENAME='"nfs4state"' -DKBUILD_MODNAME='"nfsd"' -D__KBUILD_MODNAME=kmod_nfsd -c -o fs/nfsd/nfs4state.o fs/nfsd/nfs4state.c`;

describe("which object a compiled unit belongs to", () => {
  it.each([
    ["a built-in file", BUILTIN, "vmlinux"],
    ["a module's file", MODULE, "nfsd"],
  ])("%s", (_name, cmd, object) => {
    expect(objectFromCmd(cmd)).toBe(object);
  });

  it("refuses a module command line that names no module", () => {
    expect(() => objectFromCmd("cmd_x.o := gcc -DMODULE -c -o x.o x.c")).toThrow(/KBUILD_MODNAME/);
  });
});

describe("the compiler's errors, for 'does not compile alone'", () => {
  it("keeps gcc's error lines once each, not make's", () => {
    const lines = [
      "  CC [M]  fs/nfsd/nfs4state.o",
      "fs/nfsd/nfs4state.c: In function 'nfsd4_sequence':",
      "fs/nfsd/nfs4state.c:4140:20: error: implicit declaration of function 'nfsd4_new_helper' [-Werror=implicit-function-declaration]",
      "fs/nfsd/nfs4state.c:4140:20: error: implicit declaration of function 'nfsd4_new_helper' [-Werror=implicit-function-declaration]",
      "make[3]: *** [scripts/Makefile.build:250: fs/nfsd/nfs4state.o] Error 1",
    ];
    expect(compilerErrors(lines)).toEqual(["fs/nfsd/nfs4state.c:4140:20: error: implicit declaration of function 'nfsd4_new_helper' [-Werror=implicit-function-declaration]"]);
  });

  it("falls back to the last lines when there is no error line", () => {
    expect(compilerErrors(["a", "", "b", "Killed"])).toEqual(["a", "b", "Killed"]);
  });
});

describe("withTree", () => {
  it("waits while another process holds the release tree, and takes it when that process is gone", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-tree-"));
    try {
      const tree = path.join(dir, "tree");
      fs.mkdirSync(tree);
      // Another process (here: a sleep) holds the tree's lock, as a second build worker would.
      const other = spawn("sleep", ["1.5"]);
      const gone = new Promise<number>((r) => other.once("exit", () => r(Date.now())));
      fs.mkdirSync(`${tree}.lock`);
      fs.writeFileSync(path.join(`${tree}.lock`, "owner.json"), JSON.stringify({ pid: other.pid, host: os.hostname(), since: new Date().toISOString() }));
      const lines: string[] = [];
      const ctx = { tree, makeArgs: [], signal: new AbortController().signal, log: (l: string) => lines.push(l), timeoutMs: 1000 };
      const ranAt = await withTree(ctx, async () => Date.now());
      expect(ranAt).toBeGreaterThanOrEqual(await gone);
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^waiting for the release tree: pid ${other.pid} on ${os.hostname()} since `))]);
      // Released afterwards: the next holder does not wait.
      expect(fs.existsSync(`${tree}.lock`)).toBe(false);
      await withTree({ ...ctx, log: () => lines.push("again") }, async () => undefined);
      expect(lines.filter((l) => l === "again")).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
