import { describe, expect, it } from "vitest";
import { compilerErrors, objectFromCmd } from "@/lib/builds/kbuild/compile";

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
