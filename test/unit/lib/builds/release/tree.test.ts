import { describe, expect, it } from "vitest";
import { parseKernelConfig } from "@/lib/builds/release/kernel-text";
import { compilerOf, configChanges, harmlessConfigChanges } from "@/lib/builds/release/tree";

describe("the tree's configuration", () => {
  it.each([
    ['CONFIG_CC_VERSION_TEXT="gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0"', "gcc-12"],
    ['CONFIG_CC_VERSION_TEXT="gcc (GCC) 11.4.1 20231218 (Red Hat 11.4.1-3)"', "gcc"],
    ['CONFIG_CC_VERSION_TEXT="Debian clang version 14.0.6"', "Debian"],
    ["CONFIG_LIVEPATCH=y", undefined],
  ])("the compiler of %s is %s", (line, cc) => {
    expect(compilerOf(parseKernelConfig(line))).toBe(cc);
  });

  it("lists what make olddefconfig changed, 'not set' for absent options", () => {
    const before = parseKernelConfig("CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_PAHOLE_VERSION=124\n");
    const after = parseKernelConfig("CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=y\nCONFIG_PAHOLE_VERSION=0\n");
    expect(configChanges(before, after)).toEqual(["CONFIG_B: m → not set", "CONFIG_C: not set → y", "CONFIG_PAHOLE_VERSION: 124 → 0"]);
    expect(configChanges(before, before)).toEqual([]);
  });

  it.each([
    [[], true],
    [['CONFIG_CC_VERSION_TEXT: "gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0" → "gcc-12 (Debian 12.2.0-14) 12.2.0"'], true],
    [["CONFIG_PAHOLE_VERSION: 124 → 125"], true],
    // Without pahole, BTF goes off: that changes objects (BTF_ID sections), so it is refused.
    [["CONFIG_DEBUG_INFO_BTF: y → not set", "CONFIG_PAHOLE_VERSION: 124 → 0"], false],
    [["CONFIG_GCC_VERSION: 120200 → 130200", 'CONFIG_CC_VERSION_TEXT: "a" → "b"'], false],
  ])("changes %j are harmless: %s", (changes, harmless) => {
    expect(harmlessConfigChanges(changes)).toBe(harmless);
  });
});
