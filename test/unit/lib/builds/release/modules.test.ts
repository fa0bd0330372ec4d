import { describe, expect, it } from "vitest";
import { moduleNameOf, parseModulesBuiltin } from "@/lib/builds/release/modules";

describe("module names", () => {
  it.each([
    ["nfsd.ko", "nfsd"],
    ["nf_conntrack.ko", "nf_conntrack"],
    ["snd-hda-intel.ko", "snd_hda_intel"],
    ["ext4.ko.xz", "ext4"],
    ["ext4.ko.zst", "ext4"],
    ["ext4.ko.gz", "ext4"],
    ["modules.builtin", undefined],
    ["ext4.o", undefined],
  ])("%s is module %s", (file, name) => {
    expect(moduleNameOf(file)).toBe(name);
  });

  it("reads modules.builtin", () => {
    expect([...parseModulesBuiltin("kernel/fs/proc/proc.ko\nkernel/drivers/tty/serial/8250/8250.ko\n\nkernel/lib/crc-t10dif.ko\n")]).toEqual(["proc", "8250", "crc_t10dif"]);
  });
});
