import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { headerIndex, loadKernelHeaders, makefileVersion, parseSymvers, scanHeader } from "@/lib/builds/kbuild/headers";
import type { HeaderIndex } from "@/lib/builds/kbuild/module-source";

const empty = (): HeaderIndex => ({ macros: new Set(), inlines: new Set(), enumerators: new Set(), declared: new Set() });

let root: string | undefined;
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  root = undefined;
});

describe("kernel headers", () => {
  it("indexes macros, static inline functions, enum constants and declarations", () => {
    const index = empty();
    scanHeader(
      `/* extern int commented_out; */
#define pr_info(fmt, ...) printk(fmt)
#define current get_current()
extern char *saved_command_line;
extern unsigned long volatile __cacheline_aligned_in_smp jiffies;
extern int seq_puts(struct seq_file *m, const char *s);
void kfree(const void *objp);
struct page *alloc_pages(gfp_t gfp, unsigned int order);
static __always_inline __alloc_size(1) void *kmalloc(size_t size, gfp_t flags)
{
	return __kmalloc(size, flags);
}
static inline void spin_lock(spinlock_t *lock)
{
}
static int not_inline(void);
enum { TASK_COMM_LEN = 16, };
enum pid_type { PIDTYPE_PID, PIDTYPE_TGID };
`,
      index,
    );
    expect([...index.macros].sort()).toEqual(["current", "pr_info"]);
    expect([...index.inlines].sort()).toEqual(["kmalloc", "spin_lock"]);
    expect([...index.enumerators].sort()).toEqual(["PIDTYPE_PID", "PIDTYPE_TGID", "TASK_COMM_LEN"]);
    expect([...index.declared].sort()).toEqual(["alloc_pages", "jiffies", "kfree", "saved_command_line", "seq_puts"]);
  });

  it("reads Module.symvers and versions", () => {
    expect([...parseSymvers("0x615a272f\tseq_printf\tvmlinux\tEXPORT_SYMBOL\t\n0x039823de\tinit_uts_ns\tvmlinux\tEXPORT_SYMBOL_GPL\t\n")]).toEqual(["seq_printf", "init_uts_ns"]);
    expect(makefileVersion("VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\nEXTRAVERSION =\n")).toBe("6.1.192");
  });

  it("finds Debian's split headers: Module.symvers and .config in the release's dir, the rest in -common", async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "splicer-headers-"));
    const release = path.join(root, "linux-headers-6.1.0-50-amd64");
    const common = path.join(root, "linux-headers-6.1.0-50-common");
    await mkdir(path.join(release, "arch", "x86"), { recursive: true });
    await mkdir(path.join(common, "include", "linux"), { recursive: true });
    await mkdir(path.join(common, "arch", "x86", "include", "asm"), { recursive: true });
    await mkdir(path.join(common, "arch", "arm64", "include", "asm"), { recursive: true });
    await writeFile(path.join(release, "Makefile"), `include ${common}/Makefile\n`);
    await writeFile(path.join(release, ".config"), "CONFIG_LIVEPATCH=y\nCONFIG_E1000=m\n# CONFIG_FOO is not set\n");
    await writeFile(path.join(release, "Module.symvers"), "0x1\tseq_puts\tvmlinux\tEXPORT_SYMBOL\t\n");
    await writeFile(path.join(common, "Makefile"), "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 176\n");
    await writeFile(path.join(common, "include", "linux", "init.h"), "extern char *saved_command_line;\n");
    await writeFile(path.join(common, "arch", "x86", "include", "asm", "current.h"), "#define current get_current()\n");
    await writeFile(path.join(common, "arch", "arm64", "include", "asm", "other.h"), "#define arm_only 1\n");

    const headers = await loadKernelHeaders(release);
    expect(headers).toMatchObject({ dir: release, commonDir: common, symversPath: path.join(release, "Module.symvers"), version: "6.1.176" });
    expect([...headers.exported]).toEqual(["seq_puts"]);
    expect(headers.config.get("CONFIG_E1000")).toBe("m");
    expect(headers.config.has("CONFIG_FOO")).toBe(false);
    const index = await headerIndex(headers);
    expect(index.declared.has("saved_command_line")).toBe(true);
    expect(index.macros.has("current")).toBe(true);
    expect(index.macros.has("arm_only")).toBe(false); // only the release's architecture

    await expect(loadKernelHeaders(path.join(root, "nope"))).rejects.toThrow(/no kbuild headers at .*nope/);
    await rm(path.join(release, "Module.symvers"));
    await expect(loadKernelHeaders(release)).rejects.toThrow(/no Module.symvers in .*linux-headers-6.1.0-50-amd64\/Module.symvers or .*-common\/Module.symvers/);
  });
});
