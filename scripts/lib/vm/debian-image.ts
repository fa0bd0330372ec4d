// A guest that is a real Debian host: bookworm's own userland (systemd, apt, udev, curl) made with
// debootstrap, on an ext4 disk image, booting one of Debian's kernels with its modules. No Node.js:
// the agent goes in as a Debian package, as an operator installs it. For the tests of what
// operators do to hosts (install, reboot, unload a module by hand).
//
// Cached under <cache>/debian/: the debootstrap tree as a tarball (network, ~40 s, once), and per
// kernel release the disk image and a small initramfs that loads virtio_blk and ext4 (modules on
// Debian's kernels) and switches to the disk. A guest boots with -snapshot: its writes survive
// its own reboots (one QEMU process) and are dropped when QEMU exits, so the image stays clean.
//
// The root shell on ttyS0 is logged in by systemd's serial getty and prints VmGuest's ready line
// (so VmGuest.boot and exec drive it as they drive the busybox guests); the kernel's console is ttyS1.
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { which } from "./fleet";
import { READY_MARKER } from "./initramfs";

const run = promisify(execFile);

/** Bump when what goes into the tree or the image changes without its inputs changing. */
const LAYOUT_VERSION = "1";
const SUITE = "bookworm";
const MIRROR = "http://deb.debian.org/debian";
/** systemd and what an operator's commands need (curl for the package, kmod for rmmod). */
const PACKAGES = ["systemd-sysv", "udev", "kmod", "iproute2", "procps", "curl", "ca-certificates"];
/** Driver trees a QEMU guest never uses: left out of the image (hundreds of MB). */
const UNUSED_MODULE_DIRS = ["drivers/gpu", "drivers/media", "drivers/infiniband", "sound", "drivers/staging", "drivers/net/wireless", "drivers/bluetooth", "drivers/iio"];
/** What the initramfs loads to mount the ext4 root on virtio (with their dependencies, as modprobe orders them). */
const ROOT_MODULES = ["virtio_pci", "virtio_blk", "crc32c_generic", "ext4"];

export const DEBIAN_GUEST_HOSTNAME = "debian-guest";

const INITRD_INIT = `#!/bin/busybox sh
# PID 1 of the initramfs (scripts/lib/vm/debian-image.ts): root on /dev/vda, then systemd.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
for m in $(cat /mods/order); do insmod /mods/$m || echo "initramfs: insmod $m failed"; done
i=0; while [ ! -b /dev/vda ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
mount -t ext4 -o rw /dev/vda /newroot || { echo "initramfs: cannot mount /dev/vda"; exec sh; }
umount /proc /sys
mount --move /dev /newroot/dev 2>/dev/null || umount /dev
exec switch_root /newroot /sbin/init
`;

/** Root's login on ttyS0: quiet, no prompt, no echo (VmGuest.exec drives it), then the ready line. */
const ROOT_PROFILE = `# Written by scripts/lib/vm/debian-image.ts: the test harness drives this shell.
if [ "$(tty)" = /dev/ttyS0 ]; then
  stty -echo
  bind 'set enable-bracketed-paste off' 2>/dev/null
  export PS1= PS2=
  echo "${READY_MARKER} boot_id=$(cat /proc/sys/kernel/random/boot_id) uptime=$(cut -d' ' -f1 /proc/uptime)"
fi
`;

export interface DebianGuestImage {
  release: string;
  vmlinuz: string;
  initrd: string;
  /** Raw ext4 disk image; boot it with -snapshot. */
  disk: string;
}

async function sh(script: string, opts: { timeoutMs?: number } = {}): Promise<string> {
  const { stdout } = await run("sh", ["-c", script], { maxBuffer: 64 << 20, timeout: opts.timeoutMs ?? 600_000 });
  return stdout;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The debootstrap tree as a tarball (cached); network and root needed the first time. */
async function rootfsTarball(cacheDir: string, progress: (m: string) => void): Promise<string> {
  const key = crypto.createHash("sha256").update(`${LAYOUT_VERSION} ${SUITE} ${PACKAGES.join(",")}`).digest("hex").slice(0, 12);
  const tar = path.join(cacheDir, "debian", `${SUITE}-${key}.tar`);
  if (fs.existsSync(tar)) return tar;
  fs.mkdirSync(path.dirname(tar), { recursive: true });
  const tree = fs.mkdtempSync(path.join(path.dirname(tar), ".debootstrap-"));
  try {
    progress(`debootstrap ${SUITE} (${PACKAGES.join(", ")}) from ${MIRROR}`);
    await sh(`debootstrap --variant=minbase --include=${PACKAGES.join(",")} ${SUITE} ${q(tree)} ${MIRROR}`);
    const part = `${tar}.${crypto.randomBytes(4).toString("hex")}.part`;
    await sh(`tar -C ${q(tree)} --numeric-owner -cf ${q(part)} .`);
    fs.renameSync(part, tar);
    return tar;
  } finally {
    fs.rmSync(tree, { recursive: true, force: true });
  }
}

/**
 * The disk image and initramfs for a Debian guest on `release` (cached per release), from the
 * release's image package (`imageDeb`, as scripts/lib/vm/kernel.ts fetches it).
 */
export async function buildDebianGuestImage(o: { cacheDir: string; release: string; imageDeb: string; progress?: (m: string) => void }): Promise<DebianGuestImage> {
  const progress = o.progress ?? (() => {});
  const tar = await rootfsTarball(o.cacheDir, progress);
  const key = crypto.createHash("sha256").update(`${LAYOUT_VERSION} ${path.basename(tar)} ${path.basename(o.imageDeb)} ${INITRD_INIT} ${ROOT_PROFILE}`).digest("hex").slice(0, 12);
  const dir = path.join(o.cacheDir, "debian", `${o.release}-${key}`);
  const out: DebianGuestImage = { release: o.release, vmlinuz: path.join(dir, "vmlinuz"), initrd: path.join(dir, "initrd.gz"), disk: path.join(dir, "disk.img") };
  if ([out.vmlinuz, out.initrd, out.disk].every((f) => fs.existsSync(f))) return out;

  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const work = fs.mkdtempSync(path.join(path.dirname(dir), `.build-${o.release}-`));
  try {
    const pkg = path.join(work, "pkg");
    const root = path.join(work, "root");
    const initrd = path.join(work, "initrd");
    fs.mkdirSync(pkg);
    fs.mkdirSync(root);
    progress(`unpacking ${path.basename(o.imageDeb)} and the ${SUITE} tree`);
    await sh(`dpkg -x ${q(o.imageDeb)} ${q(pkg)} && tar -C ${q(root)} -xf ${q(tar)}`);
    const modules = path.join(pkg, "lib/modules", o.release);
    for (const d of UNUSED_MODULE_DIRS) fs.rmSync(path.join(modules, "kernel", d), { recursive: true, force: true });
    fs.mkdirSync(path.join(root, "lib/modules"), { recursive: true });
    await sh(`cp -a ${q(modules)} ${q(path.join(root, "lib/modules"))}/ && depmod -b ${q(root)} ${q(o.release)}`);

    // The host: its disk, name, network (QEMU's user network gives DHCP), root on the serial console.
    const write = (rel: string, text: string, mode = 0o644) => {
      const f = path.join(root, rel);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, text, { mode });
    };
    write("etc/fstab", "/dev/vda / ext4 defaults 0 1\n");
    write("etc/hostname", `${DEBIAN_GUEST_HOSTNAME}\n`);
    write("etc/hosts", `127.0.0.1 localhost\n127.0.1.1 ${DEBIAN_GUEST_HOSTNAME}\n`);
    write("etc/machine-id", ""); // systemd makes one at first boot
    write("etc/systemd/network/20-wired.network", "[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n");
    write("etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf", "[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin root --noclear --keep-baud 115200 %I $TERM\n");
    write("root/.profile", ROOT_PROFILE);
    await sh(`chroot ${q(root)} systemctl enable systemd-networkd >/dev/null 2>&1`);
    // The root shell on ttyS0 (systemd starts a getty on the kernel's console by itself: ttyS1, masked: it is the kernel's log).
    await sh(`chroot ${q(root)} systemctl enable serial-getty@ttyS0.service >/dev/null 2>&1 && chroot ${q(root)} systemctl mask serial-getty@ttyS1.service >/dev/null 2>&1`);
    await sh(`chroot ${q(root)} passwd -d root >/dev/null`);
    // No Node.js on this host: the agent must come as its package.
    if (fs.existsSync(path.join(root, "usr/bin/node"))) throw new Error("the Debian guest image has Node.js; it must not");

    fs.mkdirSync(dir, { recursive: true });
    const disk = `${out.disk}.part`;
    await sh(`mke2fs -q -t ext4 -d ${q(root)} -L root ${q(disk)} 1400M`);

    fs.mkdirSync(path.join(initrd, "bin"), { recursive: true });
    fs.mkdirSync(path.join(initrd, "mods"));
    for (const d of ["newroot", "proc", "sys", "dev"]) fs.mkdirSync(path.join(initrd, d));
    fs.copyFileSync("/bin/busybox", path.join(initrd, "bin/busybox"));
    fs.chmodSync(path.join(initrd, "bin/busybox"), 0o755);
    // modprobe's own order (dependencies first), from the modules.dep depmod wrote for the image.
    const order: string[] = [];
    for (const m of ROOT_MODULES) {
      for (const line of (await sh(`modprobe -d ${q(root)} -S ${q(o.release)} --show-depends ${q(m)}`)).split("\n")) {
        const file = /^insmod (\S+)/.exec(line)?.[1];
        if (file && !order.includes(file)) order.push(file);
      }
    }
    for (const f of order) fs.copyFileSync(f, path.join(initrd, "mods", path.basename(f)));
    fs.writeFileSync(path.join(initrd, "mods/order"), order.map((f) => path.basename(f)).join("\n") + "\n");
    fs.writeFileSync(path.join(initrd, "init"), INITRD_INIT, { mode: 0o755 });
    await sh(`cd ${q(initrd)} && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 > ${q(`${out.initrd}.part`)}`);

    fs.copyFileSync(path.join(pkg, "boot", `vmlinuz-${o.release}`), `${out.vmlinuz}.part`);
    // The three appear together or not at all (their names are the cache's "done").
    for (const f of [out.disk, out.initrd, out.vmlinuz]) fs.renameSync(`${f}.part`, f);
    return out;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** What a Debian guest needs here: debootstrap, mke2fs, busybox (static) and root (for chroot). */
export function missingDebianGuestTools(): string[] {
  const out: string[] = [];
  for (const [tool, pkg] of [["debootstrap", "debootstrap"], ["mke2fs", "e2fsprogs"], ["busybox", "busybox-static"], ["depmod", "kmod"]] as const) {
    if (!which(tool) && !fs.existsSync(`/usr/sbin/${tool}`) && !fs.existsSync(`/sbin/${tool}`)) out.push(`${tool} (apt-get install ${pkg})`);
  }
  if (process.getuid?.() !== 0) out.push("root (debootstrap and chroot)");
  return out;
}
