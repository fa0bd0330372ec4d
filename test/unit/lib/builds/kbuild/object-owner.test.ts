import { describe, expect, it } from "vitest";
import { objectOwner, parseKbuildAssignments } from "@/lib/builds/kbuild/object-owner";
import { parseKernelConfig } from "@/lib/builds/kbuild/headers";

// fs/proc/Makefile of 6.1 (abridged): cmdline.o is part of proc.o, which is obj-y.
const PROC = `# SPDX-License-Identifier: GPL-2.0
obj-y   += proc.o

CFLAGS_task_mmu.o	+= $(call cc-option,-Wno-override-init,)
proc-y			:= nommu.o task_nommu.o
proc-$(CONFIG_MMU)	:= task_mmu.o

proc-y       += inode.o root.o base.o generic.o array.o \\
		fd.o
proc-$(CONFIG_TTY)      += proc_tty.o
proc-y	+= cmdline.o
proc-$(CONFIG_PROC_KCORE)	+= kcore.o
`;

// drivers/net/ethernet/intel/e1000/Makefile: a composite module.
const E1000 = `obj-$(CONFIG_E1000) += e1000.o

e1000-objs := e1000_main.o e1000_hw.o e1000_ethtool.o e1000_param.o
`;

const config = (text: string) => parseKernelConfig(text);

describe("which object a file is built into", () => {
  it("reads kbuild assignments with continuations and comments", () => {
    expect(parseKbuildAssignments("obj-y += a.o b.o # comment\nfoo-$(CONFIG_FOO) := x.o \\\n  y.o\nCFLAGS_a.o += -O2\n")).toEqual([
      { target: "obj", condition: "y", objects: ["a.o", "b.o"] },
      { target: "foo", condition: "CONFIG_FOO", objects: ["x.o", "y.o"] },
    ]);
  });

  it("a file of a composite object that is obj-y is in vmlinux", () => {
    expect(objectOwner("cmdline.c", [PROC], config("CONFIG_PROC_FS=y\n"))).toEqual({ kind: "vmlinux" });
    expect(objectOwner("fd.c", [PROC], config(""))).toEqual({ kind: "vmlinux" });
  });

  it("follows the release's .config: m is the module, y is vmlinux, unset is not built", () => {
    expect(objectOwner("e1000_main.c", [E1000], config("CONFIG_E1000=m\n"))).toEqual({ kind: "module", name: "e1000", config: "CONFIG_E1000" });
    expect(objectOwner("e1000_main.c", [E1000], config("CONFIG_E1000=y\n"))).toEqual({ kind: "vmlinux" });
    expect(objectOwner("e1000_main.c", [E1000], config("# CONFIG_E1000 is not set\n"))).toEqual({ kind: "not-built", config: "CONFIG_E1000" });
    expect(objectOwner("kcore.c", [PROC], config("CONFIG_PROC_KCORE=y\n"))).toEqual({ kind: "vmlinux" });
    expect(objectOwner("kcore.c", [PROC], config(""))).toEqual({ kind: "not-built", config: "CONFIG_PROC_KCORE" });
  });

  it("module names use underscores, as the kernel shows them; obj-m is a module", () => {
    expect(objectOwner("acme-core.c", ["obj-$(CONFIG_ACME) += acme-core.o\n"], config("CONFIG_ACME=m\n"))).toEqual({ kind: "module", name: "acme_core", config: "CONFIG_ACME" });
    expect(objectOwner("x.c", ["obj-m += x.o\n"], config(""))).toEqual({ kind: "module", name: "x" });
  });

  it("says when it cannot tell", () => {
    expect(objectOwner("other.c", [PROC], config(""))).toEqual({ kind: "unknown", reason: "other.o is not listed in its directory's Makefile or Kbuild" });
  });
});
