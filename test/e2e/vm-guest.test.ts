// A host on a real kernel: one QEMU guest (software emulation) booted on Debian's 6.1.0-50-amd64
// kernel with the real agent (livepatch backend, real /sys and /proc) enrolls with a real console
// over QEMU's user-mode network and shows up with its real kernel release, boot id and (no)
// livepatches. Skipped where QEMU or busybox is missing, except in CI.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Host, HostList } from "@/lib/api/schemas";
import { startTestConsole, type TestConsole } from "../helpers/console";
import { bootTestGuest, vmSkipReason, type TestGuest } from "../helpers/vm";

const RELEASE = "6.1.0-50-amd64";

let c: TestConsole | undefined;
let vm: TestGuest | undefined;

describe.skipIf(vmSkipReason !== null)(`a VM guest on ${RELEASE}${vmSkipReason ? ` (skipped: ${vmSkipReason})` : ""}`, () => {
  beforeAll(async () => {
    const t0 = Date.now();
    c = await startTestConsole();
    const t1 = Date.now();
    vm = await bootTestGuest(c, RELEASE);
    console.info(
      `vm-guest: console ${((t1 - t0) / 1000).toFixed(1)} s; guest up ${(vm.boot.readyMs / 1000).toFixed(1)} s, agent connected ` +
        `${((vm.boot.agentConnectedMs ?? 0) / 1000).toFixed(1)} s after QEMU start; initramfs ${(vm.initrdBytes / 1e6).toFixed(1)} MB`,
    );
  });

  afterAll(async () => {
    await vm?.dispose();
    await c?.stop();
  });

  it("runs the release's kernel, with livepatch support, and answers on its serial console", async () => {
    const uname = await vm!.guest.exec("uname -r");
    expect(uname).toEqual({ output: `${RELEASE}\n`, code: 0 });
    const bootId = await vm!.guest.exec("cat /proc/sys/kernel/random/boot_id");
    expect(bootId.output.trim()).toBe(vm!.boot.bootId);
    expect((await vm!.guest.exec("test -d /sys/kernel/livepatch && ls /sys/kernel/livepatch")).code).toBe(0);
    expect(await vm!.guest.exec("echo out; echo err >&2; exit 3")).toEqual({ output: "out\nerr\n", code: 3 });
  });

  it("shows up in the console with its real kernel release and boot id, online, no livepatches", async () => {
    const bootId = (await vm!.guest.exec("cat /proc/sys/kernel/random/boot_id")).output.trim();
    let host: Host | undefined;
    await expect
      .poll(
        async () => {
          const r = await c!.api(`/api/v1/hosts?q=${encodeURIComponent(vm!.hostname)}`);
          const list = (await r.json()) as HostList;
          host = list.items.find((h) => h.hostname === vm!.hostname);
          return host && host.online && host.bootId === bootId;
        },
        { timeout: 30_000, interval: 250, message: `host ${vm!.hostname} online with boot id ${bootId}\n${vm!.logs()}` },
      )
      .toBe(true);
    expect(host).toMatchObject({
      hostname: vm!.hostname,
      machineId: vm!.machineId,
      kernelRelease: RELEASE,
      bootId,
      online: true,
      status: "active",
      arch: "x86_64",
      livepatches: [],
    });
    expect(host!.kernelVersion).toMatch(/Debian/);
  });
});
