import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LivepatchBackend } from "../../../../agent/backends/livepatch";
import { Logger } from "../../../../agent/log";
import { makeFakeHost, type FakeHostTree } from "../fake-host";

let host: FakeHostTree;
beforeEach(async () => {
  host = await makeFakeHost();
});
afterEach(async () => {
  await host.cleanup();
});

describe("LivepatchBackend", () => {
  it("lists livepatches from <sysfs>/kernel/livepatch sorted by name, with enabled and transition", async () => {
    await host.addLivepatch("zz_last", 1, 0);
    await host.addLivepatch("aa_disabled", 0, 0);
    await host.addLivepatch("mm_in_transition", 1, 1);
    const backend = new LivepatchBackend({ sysRoot: host.sysRoot });
    expect(await backend.listLivepatches()).toEqual([
      { name: "aa_disabled", enabled: false, transition: false },
      { name: "mm_in_transition", enabled: true, transition: true },
      { name: "zz_last", enabled: true, transition: false },
    ]);
    expect(backend.inventoryOverrides()).toEqual({});
  });

  it("returns [] when the livepatch directory is missing or empty", async () => {
    const backend = new LivepatchBackend({ sysRoot: host.sysRoot });
    expect(await backend.listLivepatches()).toEqual([]);
    await host.write("sys/kernel/livepatch/.keep", "");
    await host.remove("sys/kernel/livepatch/.keep");
    expect(await backend.listLivepatches()).toEqual([]);
  });

  it("treats a missing transition file (kernels before 4.12) as not in transition", async () => {
    await host.addLivepatch("old_kernel_patch", 1, null);
    expect(await new LivepatchBackend({ sysRoot: host.sysRoot }).listLivepatches()).toEqual([
      { name: "old_kernel_patch", enabled: true, transition: false },
    ]);
  });

  it("skips an entry that vanished mid-read and one whose name the protocol refuses", async () => {
    await host.addLivepatch("good", 1);
    await host.write("sys/kernel/livepatch/half_gone/transition", "0\n"); // no `enabled`: module going away
    await host.addLivepatch("bad name!", 1);
    const lines: string[] = [];
    const log = new Logger("warn", {}, (l) => lines.push(l));
    expect(await new LivepatchBackend({ sysRoot: host.sysRoot, log }).listLivepatches()).toEqual([
      { name: "good", enabled: true, transition: false },
    ]);
    expect(lines.map((l) => JSON.parse(l).name)).toEqual(["bad name!"]);
  });
});
