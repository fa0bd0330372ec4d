// A fake kernel for tests: a sysfs tree (/sys/kernel/livepatch, /sys/module), a /proc with a few
// tasks, and fake insmod/rmmod programs (insmod.sh, rmmod.sh) that change the tree. Plain files
// cannot react to writes, so this helper plays the kernel's part while it runs: it completes
// transitions, starts one when `enabled` is written, frees a disabled patch, and sets each task's
// /proc/<pid>/patch_state, with a task that blocks transitions in the stall modes.
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";

/**
 * How a module behaves, chosen by its .ko content (see `moduleBytes`):
 * - normal: loads; its transition completes.
 * - refuse: insmod fails with the kernel's "Invalid parameters".
 * - stall: loads, but the transition to it never completes (a task blocks it); reversing works.
 * - revert-stall: loads fine, but disabling it never completes; re-enabling works.
 */
export type FakeModuleMode = "normal" | "refuse" | "stall" | "revert-stall";

export interface FakeTask {
  pid: number;
  comm: string;
}

/** The task that blocks stalled transitions, and some that do not. */
export const BLOCKING_TASK: FakeTask = { pid: 4242, comm: "fake-blocker" };
const OTHER_TASKS: FakeTask[] = [
  { pid: 1, comm: "systemd" },
  { pid: 812, comm: "sshd" },
];

const HERE = import.meta.dirname;
export const FAKE_INSMOD = path.join(HERE, "insmod.sh");
export const FAKE_RMMOD = path.join(HERE, "rmmod.sh");

export interface FakeKernel {
  root: string;
  sysRoot: string;
  procRoot: string;
  /** For LivepatchBackend's `insmod` option or the agent's --insmod. */
  insmod: string;
  rmmod: string;
  /** The bytes of a fake .ko with this behaviour. */
  moduleBytes(mode?: FakeModuleMode): Buffer;
  /** A module loaded before the test (e.g. by an earlier agent run), in the given state. */
  load(name: string, state?: { mode?: FakeModuleMode; enabled?: boolean; transition?: boolean }): Promise<void>;
  /** Changes a loaded module's behaviour (e.g. let a stalled transition complete). */
  setMode(name: string, mode: FakeModuleMode): Promise<void>;
  /** The livepatch's sysfs state, or null when it is not listed. */
  livepatch(name: string): Promise<{ enabled: boolean; transition: boolean } | null>;
  /** Whether /sys/module/<name> exists (the module is loaded, enabled or not). */
  moduleLoaded(name: string): Promise<boolean>;
  /** Every insmod/rmmod call so far: "insmod /path/x.ko", "rmmod x". */
  calls(): Promise<string[]>;
  /**
   * For LivepatchBackend's `writeAttribute`: writes the attribute and lets the fake kernel act on
   * it before returning, as the real kernel starts a transition inside the write to `enabled`.
   */
  writeAttribute(file: string, text: string): Promise<void>;
  /** Stops playing the kernel and deletes the tree. */
  stop(): Promise<void>;
}

export function fakeModuleBytes(mode: FakeModuleMode = "normal"): Buffer {
  return Buffer.from(`FAKE-LIVEPATCH mode=${mode}\n\u007fELF (not really)\n`);
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export async function startFakeKernel(opts: { tickMs?: number } = {}): Promise<FakeKernel> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "splicer-fake-kernel-"));
  const sysRoot = path.join(root, "sys");
  const procRoot = path.join(root, "proc");
  const lpDir = path.join(sysRoot, "kernel", "livepatch");
  const stateDir = path.join(root, "kernel");
  await Promise.all([fs.mkdir(lpDir, { recursive: true }), fs.mkdir(path.join(sysRoot, "module"), { recursive: true }), fs.mkdir(stateDir, { recursive: true })]);
  await fs.writeFile(path.join(root, "calls.log"), "");

  let tmpN = 0;
  // Renamed into place, so the agent never reads a half-written attribute.
  const writeAtomic = async (file: string, text: string) => {
    const tmp = path.join(stateDir, `.tmp-${process.pid}-${tmpN++}`);
    await fs.writeFile(tmp, text);
    await fs.rename(tmp, file);
  };
  const read = (file: string) => fs.readFile(file, "utf8").then((t) => t.trim(), () => null);

  const tasks = [...OTHER_TASKS, BLOCKING_TASK];
  /** -1: no transition; otherwise each task's state, the blocker lagging behind when `stalled`. */
  const setTasks = async (target: number | null, stalled: boolean) => {
    for (const t of tasks) {
      const state = target === null ? -1 : t === BLOCKING_TASK && stalled ? 1 - target : target;
      await writeAtomic(path.join(procRoot, String(t.pid), "patch_state"), `${state}\n`);
    }
  };
  for (const t of tasks) {
    await fs.mkdir(path.join(procRoot, String(t.pid)), { recursive: true });
    await fs.writeFile(path.join(procRoot, String(t.pid), "comm"), `${t.comm}\n`);
  }
  await setTasks(null, false);
  await fs.writeFile(path.join(stateDir, "blocker"), `${BLOCKING_TASK.pid}\n`);
  await fs.mkdir(path.join(procRoot, "self"), { recursive: true }); // not a pid: must be skipped

  /** Transitions whose task states were set up; the kernel does that when a transition starts. */
  const started = new Set<string>();
  const tick = async () => {
    for (const name of await fs.readdir(lpDir).catch(() => [] as string[])) {
      const dir = path.join(lpDir, name);
      const enabled = await read(path.join(dir, "enabled"));
      const transition = await read(path.join(dir, "transition"));
      if ((enabled !== "0" && enabled !== "1") || (transition !== "0" && transition !== "1")) continue; // mid-write
      const mode = ((await read(path.join(stateDir, `${name}.mode`))) ?? "normal") as FakeModuleMode;
      const targetFile = path.join(stateDir, `${name}.target`);
      const target = (await read(targetFile)) ?? enabled;
      const stalls = (t: string) => (mode === "stall" && t === "1") || (mode === "revert-stall" && t === "0");
      if (enabled !== target) {
        // The agent wrote `enabled`: the kernel starts (or reverses) a transition towards it.
        await writeAtomic(targetFile, `${enabled}\n`);
        await writeAtomic(path.join(dir, "transition"), "1\n");
        await setTasks(Number(enabled), stalls(enabled));
        started.add(name);
        continue;
      }
      if (transition !== "1") continue;
      if (!started.has(name)) {
        await setTasks(Number(target), stalls(target));
        started.add(name);
      }
      if (stalls(target)) continue;
      await writeAtomic(path.join(dir, "transition"), "0\n");
      await setTasks(null, false);
  await fs.writeFile(path.join(stateDir, "blocker"), `${BLOCKING_TASK.pid}\n`);
      started.delete(name);
      // A disabled livepatch is freed once its transition is over; the module stays until rmmod.
      if (target === "0") await fs.rm(dir, { recursive: true, force: true });
    }
  };
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  /** One tick, never two at once (the loop's and a write's). */
  const tickOnce = (): Promise<void> => (running = running.then(() => tick().catch(() => undefined)));
  const loop = async () => {
    while (!stopped) {
      await tickOnce();
      await new Promise((r) => setTimeout(r, opts.tickMs ?? 5));
    }
  };
  void loop();

  return {
    root,
    sysRoot,
    procRoot,
    insmod: `${quote(FAKE_INSMOD)} --fake-root ${quote(root)}`,
    rmmod: `${quote(FAKE_RMMOD)} --fake-root ${quote(root)}`,
    moduleBytes: fakeModuleBytes,
    async writeAttribute(file, text) {
      await fs.writeFile(file, text, { flag: "r+" });
      await tickOnce();
    },
    async load(name, state = {}) {
      const dir = path.join(lpDir, name);
      await fs.mkdir(dir, { recursive: true });
      await fs.mkdir(path.join(sysRoot, "module", name), { recursive: true });
      await fs.writeFile(path.join(stateDir, `${name}.mode`), `${state.mode ?? "normal"}\n`);
      await fs.writeFile(path.join(stateDir, `${name}.target`), `${state.enabled === false ? 0 : 1}\n`);
      await writeAtomic(path.join(dir, "enabled"), `${state.enabled === false ? 0 : 1}\n`);
      await writeAtomic(path.join(dir, "transition"), `${state.transition ? 1 : 0}\n`);
    },
    setMode: (name, mode) => writeAtomic(path.join(stateDir, `${name}.mode`), `${mode}\n`),
    async livepatch(name) {
      const enabled = await read(path.join(lpDir, name, "enabled"));
      if (enabled === null) return null;
      return { enabled: enabled === "1", transition: (await read(path.join(lpDir, name, "transition"))) === "1" };
    },
    moduleLoaded: (name) => fs.access(path.join(sysRoot, "module", name)).then(() => true, () => false),
    async calls() {
      return (await fs.readFile(path.join(root, "calls.log"), "utf8")).split("\n").filter(Boolean);
    },
    async stop() {
      stopped = true;
      await running;
      // maxRetries: an insmod/rmmod child may still be finishing a write.
      await fs.rm(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    },
  };
}
