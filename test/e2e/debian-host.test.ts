// A host as operators run them, on a real kernel: a QEMU guest with Debian's own userland (systemd,
// apt; made with debootstrap) and no Node.js. The agent's Debian package is installed with apt
// from the console, as Add hosts says; a real patch (built by the kbuild builder for the guest's
// release) is rolled out; the guest reboots and its agent loads the patch again before it
// connects; the console shows the new boot with the patch live and no drift. Then the module is
// unloaded by hand: the console shows the drift, and re-convergence puts the patch back.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Build, Group, HostDetail, HostList, PatchDetail, RolloutDetail, RolloutSummary } from "@/lib/api/schemas";
import { buildDebianGuestImage, DEBIAN_GUEST_HOSTNAME, missingDebianGuestTools } from "@/scripts/lib/vm/debian-image";
import { guestServerUrl } from "@/scripts/lib/vm/fleet";
import { VmGuest } from "@/scripts/lib/vm/guest";
import { downloadImagePackage } from "@/scripts/lib/vm/kernel";
import { packageAgent } from "../../scripts/package-agent";
import { eventually, expectJson, ROOT, startTestConsole, type TestConsole } from "../helpers/console";
import { KERNEL_CACHE_DIR } from "../helpers/kernels";
import { VM_CACHE_DIR, vmSkipReason } from "../helpers/vm";

const R = "6.1.0-55-amd64";
const LONG = 20 * 60_000;
const missing = [...(vmSkipReason ? [vmSkipReason] : []), ...missingDebianGuestTools()];
const skipReason = missing.length && process.env.CI !== "true" ? missing.join("; ") : null;

let c: TestConsole;
let guest: VmGuest;
let runDir: string;
let hostId: string;
let patch: PatchDetail;
let moduleName: string;

const post = (p: string, body: unknown = {}) => c.api(p, { method: "POST", json: body, headers: { origin: c.url } });
const host = () => c.api(`/api/v1/hosts/${hostId}`).then((r) => expectJson<HostDetail>(r));
const logs = () => `--- guest console ---\n${guest.serialLog().slice(-3000)}\n--- guest kernel ---\n${guest.kernelLog().slice(-3000)}`;
async function sh(cmd: string, timeoutMs = 60_000): Promise<string> {
  const r = await guest.exec(cmd, { timeoutMs });
  if (r.code !== 0) throw new Error(`guest: ${cmd} exited ${r.code}:\n${r.output}\n${logs()}`);
  return r.output.trim();
}

describe.skipIf(skipReason !== null)(`a Debian host with the agent's package, through a reboot, on ${R}${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  beforeAll(async () => {
    // The package the console serves (agent/dist), built as `npm run package:agent` builds it.
    await packageAgent({ lintian: false });
    c = await startTestConsole({ env: { SPLICER_BUILDER: "kbuild", SPLICER_KERNEL_CACHE_DIR: KERNEL_CACHE_DIR } });
    const imageDeb = await downloadImagePackage(R, path.join(VM_CACHE_DIR, "debs"), () => {});
    const image = await buildDebianGuestImage({ cacheDir: VM_CACHE_DIR, release: R, imageDeb, progress: (m) => console.info(`debian-host: ${m}`) });
    runDir = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-debian-host-"));
    guest = new VmGuest({
      name: DEBIAN_GUEST_HOSTNAME,
      kernel: image.vmlinuz,
      initrd: image.initrd,
      runDir,
      memoryMb: 1536,
      allowReboot: true,
      extraArgs: ["-drive", `file=${image.disk},if=virtio,format=raw`, "-snapshot"],
    });
    await guest.boot({ timeoutMs: 180_000 });
  }, LONG);

  afterAll(async () => {
    await guest?.stop();
    if (runDir) fs.rmSync(runDir, { recursive: true, force: true });
    await c?.stop();
  });

  it("installs with apt from the console's package (no Node.js on the host), enables the service and enrolls", async () => {
    expect((await guest.exec("command -v node")).code).not.toBe(0);
    const server = guestServerUrl(c.url);
    const token = await c.enrollmentToken({ maxUses: 1 });
    // The two commands Add hosts shows (components/hosts/install-instructions.tsx).
    await sh(`curl -fsSLo /tmp/splicer-agent.deb ${server}/api/v1/agent/package && DEBIAN_FRONTEND=noninteractive apt-get install -y /tmp/splicer-agent.deb`, 300_000);
    await sh(`printf 'SPLICER_SERVER=%s\\nSPLICER_ENROLL_TOKEN=%s\\n' '${server}' '${token}' > /etc/splicer/agent.env && systemctl restart splicer-agent`);
    expect(await sh("systemctl is-enabled splicer-agent")).toBe("enabled");
    expect(await sh("systemctl is-enabled splicer-agent-reload")).toBe("enabled");
    expect(await sh("stat -c %a /etc/splicer/agent.env")).toBe("600");
    const h = await eventually(
      async () => (await expectJson<HostList>(await c.api(`/api/v1/hosts?q=${DEBIAN_GUEST_HOSTNAME}`))).items.find((x) => x.online && x.kernelRelease === R) ?? null,
      { what: `the Debian guest online in the console\n${logs()}`, timeoutMs: 120_000 },
    );
    hostId = h.id;
    expect(h.distro).toMatchObject({ id: "debian", version: "12" });
  }, LONG);

  it("a real patch is rolled out; after a reboot the agent loads it again before connecting: new boot id, patch live, no drift", async () => {
    patch = await expectJson<PatchDetail>(await post("/api/v1/patches", { title: "proc: marker after the command line", severity: "high", cves: ["CVE-2026-0202"], diff: fs.readFileSync(path.join(ROOT, "test/fixtures/kernel/proc-cmdline-saved-command-line.diff"), "utf8"), kernelReleases: [R] }));
    const build = await eventually(
      async () => {
        const { items } = await expectJson<{ items: Build[] }>(await c.api(`/api/v1/patches/${patch.id}/builds`));
        const b = items.find((x) => x.kernelRelease === R);
        return b && b.status !== "queued" && b.status !== "building" ? b : null;
      },
      { what: "the build", timeoutMs: 900_000, intervalMs: 1000 },
    );
    expect(build.status, build.error ?? "").toBe("succeeded");
    moduleName = build.moduleName!;
    const group = await expectJson<Group>(await post("/api/v1/groups", { name: "the debian host", selector: { hostIds: [hostId] } }), 201);
    const started = await expectJson<RolloutSummary>(await post("/api/v1/rollouts", { patchId: patch.id, groupId: group.id, strategy: { canary: 0, waves: 1 } }), 201);
    const done = await eventually(
      async () => {
        const d = await expectJson<RolloutDetail>(await c.api(`/api/v1/rollouts/${started.id}`));
        return d.status === "completed" ? d : null;
      },
      { what: `the rollout\n${logs()}`, timeoutMs: 300_000, intervalMs: 500 },
    );
    expect(done.counts, JSON.stringify(done.hosts)).toEqual({ succeeded: 1 });
    const cmdline = await sh("cat /proc/cmdline");
    expect(cmdline).toMatch(/ splicer-marker$/);

    const before = await host();
    const rebooted = await guest.reboot({ timeoutMs: 240_000 });
    expect(rebooted.bootId).not.toBe(before.bootId);
    // The kernel runs the fix again, without the console having sent anything (the root shell
    // can be up before the agent's service has loaded it: wait for the kernel to say so).
    await eventually(async () => ((await guest.exec(`cat /sys/kernel/livepatch/${moduleName}/enabled`)).output.trim() === "1" ? true : null), {
      what: `the patch loaded again at boot\n${logs()}`,
      timeoutMs: 120_000,
    });
    expect(await sh("cat /proc/cmdline")).toBe(cmdline);
    const after = await eventually(
      async () => {
        const h = await host();
        return h.bootId === rebooted.bootId && h.online ? h : null;
      },
      { what: `the host's new boot in the console\n${logs()}`, timeoutMs: 180_000 },
    );
    expect(after.livepatches).toContainEqual({ name: moduleName, enabled: true, transition: false });
    expect(after.drifting).toBe(false);
    expect(after.drift.reload?.patches).toEqual([expect.objectContaining({ moduleName, outcome: "loaded" })]);
    // Early, as kpatch.service: the reload unit loaded it before the network came up, and the
    // agent's service (which connects) reported that reload without loading anything again.
    const early = await sh("journalctl -b -u splicer-agent-reload -o cat --no-pager");
    expect(early, early).toMatch(new RegExp(`kept patches handled at boot.*${moduleName}: loaded`));
    const at = async (unit: string) => BigInt(await sh(`systemctl show -p ActiveEnterTimestampMonotonic --value ${unit}`));
    expect(await at("splicer-agent-reload")).toBeGreaterThan(0n);
    expect(await at("splicer-agent-reload")).toBeLessThanOrEqual(await at("network-pre.target"));
    const journal = await sh("journalctl -b -u splicer-agent-reload -u splicer-agent -o cat --no-pager");
    const reloadedAt = journal.indexOf("kept patches handled at boot");
    expect(reloadedAt, journal).toBeGreaterThanOrEqual(0);
    expect(reloadedAt).toBeLessThan(journal.indexOf("connected to console"));
    // What the console shows is the early unit's report: the agent's service did not handle the boot again.
    expect(JSON.parse(await sh("cat /var/lib/splicer-agent/kept/last-reload.json")).at).toBe(after.drift.reload?.at);
  }, LONG);

  it("a module unloaded by hand is drift; with re-convergence on, the console puts it back", async () => {
    await sh(`echo 0 > /sys/kernel/livepatch/${moduleName}/enabled; while [ -e /sys/kernel/livepatch/${moduleName} ] && [ "$(cat /sys/kernel/livepatch/${moduleName}/transition)" = 1 ]; do sleep 0.5; done; sleep 1; rmmod ${moduleName}`);
    expect(await sh("cat /proc/cmdline")).not.toMatch(/splicer-marker/);
    const drifting = await eventually(async () => ((await host()).drifting ? host() : null), { what: "the drift in the console", timeoutMs: 120_000 });
    expect(drifting.drift.missing).toEqual([expect.objectContaining({ patchId: patch.id, moduleName, cause: "removed" })]);

    expect((await c.api("/api/v1/settings", { method: "PATCH", json: { reconverge: "auto" }, headers: { origin: c.url } })).status).toBe(200);
    await eventually(async () => {
      const h = await host();
      return !h.drifting && h.livepatches.some((l) => l.name === moduleName && l.enabled) ? h : null;
    }, { what: `the patch re-applied\n${logs()}`, timeoutMs: 300_000 });
    expect(await sh("cat /proc/cmdline")).toMatch(/ splicer-marker$/);
  }, LONG);

  it("upgrades in place keeping its state, stops on removal leaving the kernel's patches, and purging drops its state", async () => {
    const credential = await sh("sha256sum /var/lib/splicer-agent/credential.json | cut -d' ' -f1");
    // The package again from the console (the reboot emptied /tmp), installed over itself: dpkg's upgrade path.
    await sh(`curl -fsSLo /tmp/splicer-agent.deb ${guestServerUrl(c.url)}/api/v1/agent/package && DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall /tmp/splicer-agent.deb`, 300_000);
    expect(await sh("systemctl is-active splicer-agent")).toBe("active");
    expect(await sh("sha256sum /var/lib/splicer-agent/credential.json | cut -d' ' -f1")).toBe(credential);
    expect(await sh(`ls /var/lib/splicer-agent/kept/`)).toContain(`${moduleName}.ko`);
    // The same host, back online after the restart, its patch still live.
    await eventually(async () => {
      const h = await host();
      return h.online && h.livepatches.some((l) => l.name === moduleName && l.enabled) ? h : null;
    }, { what: `the host back after the upgrade\n${logs()}`, timeoutMs: 120_000 });

    await sh("DEBIAN_FRONTEND=noninteractive apt-get remove -y splicer-agent", 120_000);
    expect((await guest.exec("systemctl is-active splicer-agent")).output.trim()).not.toBe("active");
    expect((await guest.exec("test -e /usr/bin/splicer-agent")).code).not.toBe(0);
    expect(await sh("test -d /var/lib/splicer-agent && echo kept")).toBe("kept");
    // Removing the agent does not take the fix out of the running kernel.
    expect(await sh("cat /proc/cmdline")).toMatch(/ splicer-marker$/);
    await eventually(async () => ((await host()).online ? null : true), { what: "the host offline in the console", timeoutMs: 120_000 });

    await sh("DEBIAN_FRONTEND=noninteractive apt-get purge -y splicer-agent", 120_000);
    expect((await guest.exec("test -e /var/lib/splicer-agent")).code).not.toBe(0);
    expect((await guest.exec("test -e /etc/splicer/agent.env")).code).not.toBe(0);
  }, LONG);
});
