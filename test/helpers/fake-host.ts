// A fake host's /proc, /etc and /sys trees, as the livepatch backend reads them: the lowest layer
// we can fake, so the agent's real inventory code runs above it.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface FakeHost {
  root: string;
  procRoot: string;
  etcRoot: string;
  sysRoot: string;
  args: string[];
  setLivepatch(name: string, state: { enabled: boolean; transition?: boolean } | null): void;
  setBootId(id: string): void;
}

export function makeFakeHost(opts: { kernelRelease?: string; machineId?: string; hostname?: string; livepatches?: Record<string, { enabled: boolean; transition?: boolean }> } = {}): FakeHost {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "splicer-fakehost-"));
  const procRoot = path.join(root, "proc");
  const etcRoot = path.join(root, "etc");
  const sysRoot = path.join(root, "sys");
  const w = (p: string, content: string) => {
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  };
  w(path.join(procRoot, "sys/kernel/osrelease"), `${opts.kernelRelease ?? "6.1.0-50-amd64"}\n`);
  w(path.join(procRoot, "sys/kernel/version"), "#1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1 (2026-08-01)\n");
  w(path.join(procRoot, "sys/kernel/random/boot_id"), "2f5e3c1a-1111-4222-8333-444455556666\n");
  w(path.join(procRoot, "uptime"), "12345.67 23456.78\n");
  w(path.join(procRoot, "meminfo"), "MemTotal:       16314572 kB\nMemFree:         1234567 kB\n");
  w(path.join(procRoot, "sys/kernel/hostname"), `${opts.hostname ?? "fake-host-01"}\n`);
  w(path.join(etcRoot, "os-release"), 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n');
  w(path.join(etcRoot, "machine-id"), `${opts.machineId ?? crypto.randomUUID().replace(/-/g, "")}\n`);
  w(path.join(etcRoot, "hostname"), `${opts.hostname ?? "fake-host-01"}\n`);
  fs.mkdirSync(path.join(sysRoot, "kernel/livepatch"), { recursive: true });
  const host: FakeHost = {
    root,
    procRoot,
    etcRoot,
    sysRoot,
    args: ["--proc-root", procRoot, "--etc-root", etcRoot, "--sysfs-root", sysRoot],
    setLivepatch(name, state) {
      const dir = path.join(sysRoot, "kernel/livepatch", name);
      if (!state) return fs.rmSync(dir, { recursive: true, force: true });
      w(path.join(dir, "enabled"), state.enabled ? "1\n" : "0\n");
      w(path.join(dir, "transition"), state.transition ? "1\n" : "0\n");
    },
    setBootId(id) {
      w(path.join(procRoot, "sys/kernel/random/boot_id"), `${id}\n`);
    },
  };
  for (const [name, s] of Object.entries(opts.livepatches ?? {})) host.setLivepatch(name, s);
  return host;
}
