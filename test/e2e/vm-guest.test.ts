// A host on a real kernel: one QEMU guest (software emulation) booted on Debian's 6.1.0-50-amd64
// kernel with the real agent (livepatch backend, real /sys and /proc) enrolls with a real console
// over QEMU's user-mode network and shows up with its real kernel release, boot id and (no)
// livepatches. Skipped where QEMU or busybox is missing, except in CI.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Host, HostList } from "@/lib/api/schemas";
import { guestHostname, guestMachineId, guestServerUrl } from "@/scripts/lib/vm/fleet";
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

describe("a guest's view of the console and its own identity", () => {
  it("reaches a console on the host's loopback at 10.0.2.2 on the same port, anything else as given", () => {
    expect(guestServerUrl("http://127.0.0.1:3000")).toBe("http://10.0.2.2:3000");
    expect(guestServerUrl("http://localhost:3000/")).toBe("http://10.0.2.2:3000");
    expect(guestServerUrl("http://[::1]:8080/splicer")).toBe("http://10.0.2.2:8080/splicer");
    expect(guestServerUrl("https://0.0.0.0")).toBe("https://10.0.2.2");
    expect(guestServerUrl("https://splicer.example.com:8443")).toBe("https://splicer.example.com:8443");
    expect(guestServerUrl("http://192.168.1.20:3000")).toBe("http://192.168.1.20:3000");
  });

  it("names each guest after its kernel release, with a stable machine id", () => {
    expect(guestHostname("6.1.0-50-amd64")).toBe("vm-6-1-0-50-amd64");
    expect(guestHostname("6.1.0-56-cloud-amd64")).toBe("vm-6-1-0-56-cloud-amd64");
    expect(guestMachineId("vm-6-1-0-50-amd64")).toMatch(/^[0-9a-f]{32}$/);
    expect(guestMachineId("vm-6-1-0-50-amd64")).toBe(guestMachineId("vm-6-1-0-50-amd64"));
    expect(guestMachineId("vm-6-1-0-50-amd64")).not.toBe(guestMachineId("vm-6-1-0-47-amd64"));
  });
});
