import * as fs from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { absentFromRelease } from "@/lib/builds/kbuild/absent";
import { readElf, type ElfObject } from "@/lib/livepatch/elf";
import { symbolTable, type KernelSymbol } from "@/lib/livepatch/symbols";
import { compile, tempDir } from "../../livepatch/helpers";

// Whether a unit kbuild compiled is part of R: kbuild compiles a file R's config leaves out when
// asked for it by name, so R's own symbols decide.
const sym = (name: string, local: boolean, file?: string): Omit<KernelSymbol, "position"> => ({ name, addr: 0n, size: 8, type: "FUNC", local, ...(file ? { file, fileGroup: 1 } : {}) });
const release = {
  release: "6.1.0-54-amd64",
  vmlinuxSymbols: async () => symbolTable("vmlinux", [sym("ntfs_stamp_usnjrnl", false), sym("helper", true, "other.c"), sym("table", false)]),
  modulePath: async (name: string) => (name === "nfsd" ? "/lib/modules/nfsd.ko" : undefined),
};

const UNITS: Record<string, string> = {
  empty: `#ifdef NTFS_RW\nint ntfs_stamp_usnjrnl(void) { return 1; }\n#endif\n`,
  present: `int ntfs_stamp_usnjrnl(void) { return 1; }\n`,
  staticElsewhere: `static int __attribute__((noinline)) helper(int x) { return x * 3; }\nint not_in_r(int x) { return helper(x) + 1; }\n`,
  dataOnly: `const int table[4] = { 1, 2, 3, 4 };\n`,
  dataAbsent: `const int other_table[4] = { 1, 2, 3, 4 };\n`,
};

let dir: string;
const objects = new Map<string, ElfObject>();
beforeAll(async () => {
  dir = await tempDir("absent");
  for (const [name, src] of Object.entries(UNITS)) objects.set(name, readElf((await compile(dir, name, src)).bytes));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("absentFromRelease", () => {
  it.each([
    ["a file R's config empties (all under an unset #ifdef)", "empty", "vmlinux", /compiles to no code or data with 6\.1\.0-54-amd64's config/],
    ["a file with a global R has", "present", "vmlinux", null],
    ["a file whose static shares its name with another file's only", "staticElsewhere", "vmlinux", /none of its 2 functions is in 6\.1\.0-54-amd64's vmlinux/],
    ["a data-only file whose variable R has", "dataOnly", "vmlinux", null],
    ["a data-only file R does not have", "dataAbsent", "vmlinux", /none of its 1 variable is in/],
    ["a module R ships", "present", "nfsd", null],
    ["a module R does not ship", "present", "ntfs", /ships no module ntfs\.ko/],
  ] as const)("%s", async (_what, unit, object, want) => {
    const got = await absentFromRelease(release, `fs/x/${unit}.c`, object, objects.get(unit) as ElfObject);
    if (want === null) expect(got).toBeNull();
    else expect(got).toMatch(want);
  });
});
