import { describe, expect, it } from "vitest";
import { wrapperSource, type KlpObjectSpec } from "@/lib/livepatch/module-source";

const VMLINUX: KlpObjectSpec = { object: "vmlinux", functions: [{ name: "cmdline_proc_show", sympos: 0, entry: "__splicer_new_0" }] };
const NFSD: KlpObjectSpec = {
  object: "nfsd",
  functions: [
    { name: "nfsd4_process_open2", sympos: 0, entry: "__splicer_new_1" },
    { name: "show", sympos: 3, entry: "__splicer_new_2" },
  ],
};

const source = (objects: KlpObjectSpec[], description = "a patch") => wrapperSource({ moduleName: "livepatch_6f1a2b3c", description, objects });
/** The lines of a C initialiser block starting with `head`, up to its closing `};`. */
const block = (src: string, head: string) => {
  const lines = src.split("\n");
  const start = lines.indexOf(head);
  expect(start, head).toBeGreaterThanOrEqual(0);
  return lines.slice(start, lines.indexOf("};", start) + 1);
};

describe("wrapperSource", () => {
  it("registers a vmlinux function with a NULL object name", () => {
    const src = source([VMLINUX]);
    expect(src).toContain("#include <linux/livepatch.h>");
    expect(src).toContain("extern char __splicer_new_0[];");
    expect(block(src, "static struct klp_func funcs_0[] = {")).toEqual([
      "static struct klp_func funcs_0[] = {",
      '\t{ .old_name = "cmdline_proc_show", .new_func = __splicer_new_0, .old_sympos = 0 },',
      "\t{ }",
      "};",
    ]);
    expect(block(src, "static struct klp_object objs[] = {")).toEqual(["static struct klp_object objs[] = {", "\t{ .name = NULL, .funcs = funcs_0 },", "\t{ }", "};"]);
    expect(src).toContain("static struct klp_patch patch = { .mod = THIS_MODULE, .objs = objs };");
    expect(src).toContain("return klp_enable_patch(&patch);");
    expect(src).toContain('MODULE_LICENSE("GPL");');
    expect(src).toContain('MODULE_INFO(livepatch, "Y");');
    expect(src).toMatch(/module_init\(splicer_patch_init\);\nmodule_exit\(splicer_patch_exit\);/);
  });

  it("names a module object by its name, each object with its own functions and sympos", () => {
    const src = source([VMLINUX, NFSD]);
    for (const e of ["__splicer_new_0", "__splicer_new_1", "__splicer_new_2"]) expect(src).toContain(`extern char ${e}[];`);
    expect(block(src, "static struct klp_func funcs_1[] = {")).toEqual([
      "static struct klp_func funcs_1[] = {",
      '\t{ .old_name = "nfsd4_process_open2", .new_func = __splicer_new_1, .old_sympos = 0 },',
      '\t{ .old_name = "show", .new_func = __splicer_new_2, .old_sympos = 3 },',
      "\t{ }",
      "};",
    ]);
    expect(block(src, "static struct klp_object objs[] = {")).toEqual([
      "static struct klp_object objs[] = {",
      "\t{ .name = NULL, .funcs = funcs_0 },",
      '\t{ .name = "nfsd", .funcs = funcs_1 },',
      "\t{ }",
      "};",
    ]);
  });

  it("imports the symbol namespaces of the exports the new code uses, and none without", () => {
    const src = wrapperSource({ moduleName: "livepatch_6f1a2b3c", description: "cxl", objects: [VMLINUX], importNamespaces: ["CXL", "CRYPTO_INTERNAL"] });
    expect(src.split("\n").filter((l) => l.startsWith("MODULE_IMPORT_NS"))).toEqual(["MODULE_IMPORT_NS(CXL);", "MODULE_IMPORT_NS(CRYPTO_INTERNAL);"]);
    expect(source([VMLINUX])).not.toContain("MODULE_IMPORT_NS");
    expect(() => wrapperSource({ moduleName: "livepatch_6f1a2b3c", description: "x", objects: [VMLINUX], importNamespaces: ["CXL); evil("] })).toThrow(/bad symbol namespace/);
  });

  it("writes the description as a C string of printable ASCII", () => {
    const src = source([VMLINUX], 'Fix "cmdline" \\ for CVE-2026-1 – naïve\nsecond line');
    expect(src).toContain('MODULE_DESCRIPTION("Fix \\"cmdline\\" \\\\ for CVE-2026-1 ? na?ve?second line");');
    const long = source([VMLINUX], "x".repeat(500));
    expect(long).toContain(`MODULE_DESCRIPTION("${"x".repeat(200)}");`);
  });

  it.each([
    ["an entry that is not a C identifier", [{ object: "vmlinux", functions: [{ name: "f", sympos: 0, entry: "bad-entry" }] }], /bad entry symbol bad-entry/],
    ["an entry starting with a digit", [{ object: "vmlinux", functions: [{ name: "f", sympos: 0, entry: "0abc" }] }], /bad entry symbol 0abc/],
    ["a function name with a quote", [{ object: "vmlinux", functions: [{ name: 'f"); evil("', sympos: 0, entry: "__splicer_new_0" }] }], /bad function name/],
    ["a function name with a space", [{ object: "vmlinux", functions: [{ name: "f g", sympos: 0, entry: "__splicer_new_0" }] }], /bad function name/],
    ["an empty function name", [{ object: "vmlinux", functions: [{ name: "", sympos: 0, entry: "__splicer_new_0" }] }], /bad function name/],
    ["an object name with a quote", [{ object: 'nfs"d', functions: [{ name: "f", sympos: 0, entry: "__splicer_new_0" }] }], /bad object name/],
    ["an empty object name", [{ object: "", functions: [{ name: "f", sympos: 0, entry: "__splicer_new_0" }] }], /bad object name/],
  ] as [string, KlpObjectSpec[], RegExp][])("refuses %s", (_what, objects, message) => {
    expect(() => source(objects)).toThrow(message);
  });
});
