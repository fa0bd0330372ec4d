import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LivepatchBackend } from "../../../../agent/backends/livepatch";
import { Logger } from "../../../../agent/log";
import { makeFakeHost, type FakeHost } from "../../../helpers/fake-host";

let host: FakeHost;
beforeEach(async () => {
  host = makeFakeHost();
});
afterEach(async () => {
  host.cleanup();
});

describe("LivepatchBackend", () => {
  it("lists livepatches from <sysfs>/kernel/livepatch sorted by name, with enabled and transition", async () => {
    host.setLivepatch("zz_last", { enabled: true });
    host.setLivepatch("aa_disabled", { enabled: false });
    host.setLivepatch("mm_in_transition", { enabled: true, transition: true });
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
    host.write("sys/kernel/livepatch/.keep", "");
    host.remove("sys/kernel/livepatch/.keep");
    expect(await backend.listLivepatches()).toEqual([]);
  });

  it("treats a missing transition file (kernels before 4.12) as not in transition", async () => {
    host.setLivepatch("old_kernel_patch", { enabled: true, transition: null });
    expect(await new LivepatchBackend({ sysRoot: host.sysRoot }).listLivepatches()).toEqual([
      { name: "old_kernel_patch", enabled: true, transition: false },
    ]);
  });

  it("skips an entry that vanished mid-read and one whose name the protocol refuses", async () => {
    host.setLivepatch("good", { enabled: true });
    host.write("sys/kernel/livepatch/half_gone/transition", "0\n"); // no `enabled`: module going away
    host.setLivepatch("bad name!", { enabled: true });
    const lines: string[] = [];
    const log = new Logger("warn", {}, (l) => lines.push(l));
    expect(await new LivepatchBackend({ sysRoot: host.sysRoot, log }).listLivepatches()).toEqual([
      { name: "good", enabled: true, transition: false },
    ]);
    expect(lines.map((l) => JSON.parse(l).name)).toEqual(["bad name!"]);
  });
});
