// The real kernel: livepatch state from sysfs (/sys/kernel/livepatch/<name>/{enabled,transition}),
// patches loaded with insmod and unloaded with rmmod, stalled transitions diagnosed from
// /proc/<pid>/patch_state and reversed, so a failed apply leaves the kernel as it was.
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { JOB_PHASE, LivepatchSchema } from "../protocol";
import { describeFailure, spawnCommand, splitCommand, type CommandResult, type CommandRunner } from "../exec";
import { silentLogger, type Logger } from "../log";
import { writeFileAtomic } from "../durable-file";
import { realTimers, sleep, type Timers } from "../timers";
import {
  KernelError,
  describeTasks,
  type ApplyOptions,
  type BlockingTask,
  type HostFacts,
  type KernelBackend,
  type KernelChange,
  type Livepatch,
  type RevertOptions,
} from "./types";

// r+: write the existing attribute, never create a file where the kernel has none.
const writeExisting = (file: string, text: string) => fs.writeFile(file, text, { flag: "r+" });

export interface LivepatchBackendOptions {
  /** The sysfs mount point; a fake tree in tests. */
  sysRoot?: string;
  /** The proc mount point, read for tasks blocking a transition. */
  procRoot?: string;
  /** Where artifacts are written before loading (<stateDir>/modules). */
  modulesDir?: string;
  /** Loads a module; the .ko path is appended. Default "insmod". */
  insmod?: string;
  /** Unloads a module; the module name is appended. Default "rmmod". */
  rmmod?: string;
  run?: CommandRunner;
  /** How often sysfs is polled while a transition runs. */
  pollMs?: number;
  /**
   * Writes a sysfs attribute (default: into the existing file). The kernel acts inside the write
   * (writing `enabled` starts the transition); a test's fake kernel is told here to do the same.
   */
  writeAttribute?: (file: string, text: string) => Promise<void>;
  /**
   * Time allowed for putting the kernel back after a stalled transition (the job's own time is
   * spent by then), and for each insmod/rmmod.
   */
  cleanupTimeoutMs?: number;
  timers?: Timers;
  log?: Logger;
}

interface PatchState {
  enabled: boolean;
  transition: boolean;
}

type TransitionOutcome = "settled" | "gone" | "stalled";

/** KLP_UNDEFINED: the task is not part of any transition. */
const NO_TRANSITION = -1;
const MAX_BLOCKING_TASKS = 64;

function isGone(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  // ENOENT/ENOTDIR: the patch module was removed between readdir and read.
  return code === "ENOENT" || code === "ENOTDIR";
}

async function readFlag(file: string): Promise<boolean> {
  return (await fs.readFile(file, "utf8")).trim() === "1";
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

export class LivepatchBackend implements KernelBackend {
  readonly name = "livepatch" as const;
  readonly livepatchDir: string;
  private readonly moduleSysDir: string;
  private readonly procRoot: string;
  private readonly modulesDir: string;
  private readonly insmod: string[];
  private readonly rmmod: string[];
  private readonly run: CommandRunner;
  private readonly pollMs: number;
  private readonly cleanupTimeoutMs: number;
  private readonly timers: Timers;
  private readonly log: Logger;
  private readonly writeAttribute: (file: string, text: string) => Promise<void>;

  constructor(opts: LivepatchBackendOptions = {}) {
    const sysRoot = opts.sysRoot ?? "/sys";
    this.livepatchDir = path.join(sysRoot, "kernel", "livepatch");
    this.moduleSysDir = path.join(sysRoot, "module");
    this.procRoot = opts.procRoot ?? "/proc";
    this.modulesDir = opts.modulesDir ?? "/var/lib/splicer-agent/modules";
    this.insmod = splitCommand(opts.insmod ?? "insmod");
    this.rmmod = splitCommand(opts.rmmod ?? "rmmod");
    if (this.insmod.length === 0 || this.rmmod.length === 0) throw new Error("the insmod and rmmod commands must not be empty");
    this.run = opts.run ?? spawnCommand;
    this.pollMs = opts.pollMs ?? 200;
    this.cleanupTimeoutMs = opts.cleanupTimeoutMs ?? 30_000;
    this.timers = opts.timers ?? realTimers;
    this.log = opts.log ?? silentLogger;
    this.writeAttribute = opts.writeAttribute ?? writeExisting;
  }

  inventoryOverrides(): Partial<HostFacts> {
    return {};
  }

  async listLivepatches(): Promise<Livepatch[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.livepatchDir);
    } catch (err) {
      // No /sys/kernel/livepatch: kernel without CONFIG_LIVEPATCH or no patch ever loaded.
      if (isGone(err)) return [];
      throw err;
    }
    const result: Livepatch[] = [];
    for (const name of names.sort()) {
      try {
        const state = await this.readState(name);
        if (!state) continue;
        const lp = { name, ...state };
        if (!LivepatchSchema.safeParse(lp).success) {
          this.log.warn("skipping livepatch with a name the console does not accept", { name });
          continue;
        }
        result.push(lp);
      } catch (err) {
        if (isGone(err)) continue;
        throw err;
      }
    }
    return result;
  }

  /** What an apply and a revert start with: the checked name, the log, the deadline; the kernel is changing from now. */
  private begin(opts: RevertOptions): { name: string; say: (line: string) => void; deadline: number } {
    const name = checkedName(opts.moduleName);
    opts.onPhase?.(JOB_PHASE.applying);
    return { name, say: (line) => opts.onLog?.(line), deadline: this.timers.now() + opts.timeoutMs };
  }

  async apply(opts: ApplyOptions): Promise<KernelChange> {
    const { name, say, deadline } = this.begin(opts);

    let state = await this.readState(name);
    if (state && !state.enabled) {
      // Loaded but disabled: a revert that did not get to unload it. Finish that, then load anew
      // (the kernel cannot re-enable a disabled livepatch).
      say(`livepatch ${name} is loaded but disabled; unloading it before loading it again`);
      if ((await this.waitTransition(name, deadline, opts.signal)) === "stalled") {
        throw new KernelError(`livepatch ${name} is still leaving the kernel (transition in progress); try again later`, { timedOut: true });
      }
      await this.unload(name, say);
      state = null;
    }

    let changed = false;
    if (state) {
      say(`livepatch ${name} is already loaded and enabled; not loading it again`);
    } else {
      const file = await this.writeModule(name, opts.artifact);
      say(`loading ${file}: ${[...this.insmod, file].join(" ")}`);
      const r = await this.run([...this.insmod, file], { timeoutMs: Math.max(1, Math.min(this.cleanupTimeoutMs, deadline - this.timers.now())) });
      outputLines(r.stdout).forEach(say);
      if (r.code !== 0) {
        const why = `${this.insmod[0]} could not load ${name}: ${describeFailure(r)}`;
        say(why);
        // Killed after the kernel took the module: take it out again before reporting.
        if (await this.readState(name)) await this.reverseApply(name, say).catch((err: Error) => say(err.message));
        throw new KernelError(why, { timedOut: r.timedOut });
      }
      changed = true;
    }

    const outcome = await this.waitTransition(name, deadline, opts.signal);
    if (outcome === "gone") throw new KernelError(`livepatch ${name} did not appear in ${this.livepatchDir} after loading; the kernel refused it (see dmesg)`);
    if (outcome === "stalled") {
      const tasks = await this.blockingTasks(1);
      say(`transition to livepatch ${name} did not finish in time${tasks.length ? `; blocked by ${describeTasks(tasks)}` : ""}; reversing it`);
      await this.reverseApply(name, say, tasks);
      throw new KernelError(`${blockedBy(name, tasks)}; the patch was reversed and unloaded`, { blockingTasks: tasks, timedOut: true });
    }

    opts.onPhase?.(JOB_PHASE.verifying);
    const final = await this.readState(name);
    if (!final?.enabled || final.transition) {
      await this.reverseApply(name, say).catch((err: Error) => say(err.message));
      throw new KernelError(`livepatch ${name} loaded but is not enabled (enabled=${final?.enabled ? 1 : 0}); it was unloaded`);
    }
    say(`livepatch ${name} is enabled and every task has switched to it`);
    const taint = await this.taint();
    if (taint) say(`kernel taint ${taint.value}${taint.flags.length ? ` (${taint.flags.join(", ")})` : ""}`);
    return { changed };
  }

  /** /proc/sys/kernel/tainted, with the flags a livepatch sets named (K, O, E); null if unreadable. */
  private async taint(): Promise<{ value: number; flags: string[] } | null> {
    try {
      const value = Number((await fs.readFile(path.join(this.procRoot, "sys/kernel/tainted"), "utf8")).trim());
      if (!Number.isFinite(value)) return null;
      const named: [number, string][] = [[12, "O: out-of-tree module"], [13, "E: unsigned module"], [15, "K: live patched"]];
      return { value, flags: named.filter(([bit]) => (value & (1 << bit)) !== 0).map(([, n]) => n) };
    } catch {
      return null;
    }
  }

  async revert(opts: RevertOptions): Promise<KernelChange> {
    const { name, say, deadline } = this.begin(opts);

    const state = await this.readState(name);
    const moduleLoaded = await exists(path.join(this.moduleSysDir, name));
    if (!state && !moduleLoaded) {
      say(`livepatch ${name} is not loaded; nothing to revert`);
      return { changed: false };
    }
    if (state?.enabled) {
      say(`disabling livepatch ${name}`);
      await this.writeEnabled(name, 0);
    }
    for (;;) {
      if ((await this.waitTransition(name, deadline, opts.signal)) === "stalled") {
        const tasks = await this.blockingTasks(0);
        say(`transition away from livepatch ${name} did not finish in time${tasks.length ? `; blocked by ${describeTasks(tasks)}` : ""}; re-enabling it`);
        await this.writeEnabled(name, 1).catch((err: Error) => say(`could not re-enable: ${err.message}`));
        const back = await this.waitTransition(name, this.timers.now() + this.cleanupTimeoutMs);
        const left = back === "settled" ? "the patch was re-enabled and stays applied" : "re-enabling it did not finish either; check the host";
        throw new KernelError(`${blockedBy(name, tasks)}; ${left}`, { blockingTasks: tasks, timedOut: true });
      }
      if (!(await exists(path.join(this.moduleSysDir, name)))) break;
      const r = await this.runRmmod(name, say);
      if (r.code === 0) break;
      // Busy: still leaving the kernel. Wait for the transition again (it may be stalled), then retry.
      const busy = /in use/i.test(r.stderr) || (await this.readState(name)) !== null;
      if (!busy || this.timers.now() >= deadline || opts.signal?.aborted) {
        throw new KernelError(`${this.rmmod[0]} could not unload ${name}: ${describeFailure(r)}`, { timedOut: r.timedOut });
      }
      await sleep(this.timers, this.pollMs, opts.signal);
    }
    opts.onPhase?.(JOB_PHASE.verifying);
    if (await this.readState(name)) throw new KernelError(`livepatch ${name} is still listed in ${this.livepatchDir} after unloading it`);
    say(`livepatch ${name} is disabled and unloaded`);
    return { changed: true };
  }

  /** Reads one patch's state; null when it is not loaded. */
  private async readState(name: string): Promise<PatchState | null> {
    const dir = path.join(this.livepatchDir, name);
    try {
      const enabled = await readFlag(path.join(dir, "enabled"));
      let transition = false;
      try {
        transition = await readFlag(path.join(dir, "transition"));
      } catch (err) {
        // Kernels before 4.12 have no `transition` attribute.
        if (!isGone(err)) throw err;
        if (!(await exists(dir))) return null;
      }
      return { enabled, transition };
    } catch (err) {
      if (isGone(err)) return null;
      throw err;
    }
  }

  private async writeEnabled(name: string, value: 0 | 1): Promise<void> {
    await this.writeAttribute(path.join(this.livepatchDir, name, "enabled"), `${value}\n`);
  }

  /** Polls until the transition is over (or the patch is gone), the deadline passes, or `signal` aborts. */
  private async waitTransition(name: string, deadline: number, signal?: AbortSignal): Promise<TransitionOutcome> {
    for (;;) {
      const state = await this.readState(name);
      if (!state) return "gone";
      if (!state.transition) return "settled";
      const left = deadline - this.timers.now();
      if (left <= 0 || signal?.aborted) return "stalled";
      await sleep(this.timers, Math.min(this.pollMs, left), signal);
    }
  }

  /** Disable a patch whose transition stalled (the kernel reverses it), wait, unload. */
  private async reverseApply(name: string, say: (line: string) => void, tasks: BlockingTask[] = []): Promise<void> {
    const state = await this.readState(name);
    if (state?.enabled) await this.writeEnabled(name, 0);
    if ((await this.waitTransition(name, this.timers.now() + this.cleanupTimeoutMs)) === "stalled") {
      throw new KernelError(`${blockedBy(name, tasks)}, and reversing it stalled too; the patch is left in transition: check the host`, {
        blockingTasks: tasks,
        timedOut: true,
      });
    }
    if (await exists(path.join(this.moduleSysDir, name))) await this.unload(name, say);
    say(`livepatch ${name} reversed and unloaded`);
  }

  private async runRmmod(name: string, say: (line: string) => void): Promise<CommandResult> {
    say(`unloading: ${[...this.rmmod, name].join(" ")}`);
    const r = await this.run([...this.rmmod, name], { timeoutMs: this.cleanupTimeoutMs });
    outputLines(r.stdout).forEach(say);
    return r;
  }

  /**
   * rmmod, retried while the module is busy: the kernel lets go of a disabled livepatch's module
   * shortly after its transition ends ("in use" until then).
   */
  private async unload(name: string, say: (line: string) => void, deadline = this.timers.now() + this.cleanupTimeoutMs, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const r = await this.runRmmod(name, say);
      if (r.code === 0) return;
      const busy = /in use/i.test(r.stderr) || (await this.readState(name)) !== null;
      if (!busy || this.timers.now() >= deadline || signal?.aborted) {
        throw new KernelError(`${this.rmmod[0]} could not unload ${name}: ${describeFailure(r)}`, { timedOut: r.timedOut });
      }
      await sleep(this.timers, this.pollMs, signal);
    }
  }

  private async writeModule(name: string, bytes: Uint8Array): Promise<string> {
    await fs.mkdir(this.modulesDir, { recursive: true, mode: 0o700 });
    const file = path.join(this.modulesDir, `${name}.ko`);
    await writeFileAtomic(file, bytes, 0o600);
    return file;
  }

  /**
   * Tasks that have not reached the transition's target state (1 patching, 0 unpatching), from
   * /proc/<pid>/patch_state; -1 means the task is not in a transition.
   */
  async blockingTasks(target: 0 | 1): Promise<BlockingTask[]> {
    let entries: string[];
    try {
      entries = await fs.readdir(this.procRoot);
    } catch {
      return [];
    }
    const tasks: BlockingTask[] = [];
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue;
      const dir = path.join(this.procRoot, entry);
      const raw = await fs.readFile(path.join(dir, "patch_state"), "utf8").catch(() => null);
      const state = raw === null ? NaN : Number.parseInt(raw.trim(), 10);
      if (Number.isNaN(state) || state === NO_TRANSITION || state === target) continue;
      const comm = ((await fs.readFile(path.join(dir, "comm"), "utf8").catch(() => "?")).trim() || "?").slice(0, 64);
      tasks.push({ pid: Number(entry), comm });
      if (tasks.length >= MAX_BLOCKING_TASKS) break;
    }
    return tasks.sort((a, b) => a.pid - b.pid);
  }
}

/** A module name becomes a path under sysfs and the modules dir: no "." or "..". */
function checkedName(name: string): string {
  if (!LivepatchSchema.shape.name.safeParse(name).success || name === "." || name === "..") {
    throw new KernelError(`invalid livepatch module name: ${JSON.stringify(name)}`);
  }
  return name;
}

function blockedBy(name: string, tasks: BlockingTask[]): string {
  return tasks.length
    ? `the livepatch ${name} transition was blocked by ${tasks.length === 1 ? "task" : "tasks"} ${describeTasks(tasks)}`
    : `the livepatch ${name} transition did not finish (no blocking task found in /proc)`;
}

function outputLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter(Boolean);
}
