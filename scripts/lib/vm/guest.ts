// One QEMU guest (software emulation; no KVM here): boots a kernel and initramfs with three
// serial ports:
// - ttyS0 ↔ our stdio: /init's output, then a root shell that exec() drives with unique markers;
// - ttyS1 → <runDir>/kernel.log: the kernel's console (console=ttyS1), so kernel messages never
//   interleave with command output (and `dmesg` output is not mistaken for them);
// - ttyS2 → <runDir>/agent.log: the agent's output.
import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Writable } from "node:stream";
import { READY_MARKER } from "./initramfs";

export type SpawnLike = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export interface VmGuestOptions {
  /** Shown in logs and errors, e.g. the guest's hostname. */
  name: string;
  /** vmlinuz path. */
  kernel: string;
  /** initramfs path (gzip'd newc cpio, possibly several concatenated). */
  initrd: string;
  /** Where the serial logs are written: console.log (ttyS0), kernel.log (ttyS1), agent.log (ttyS2). */
  runDir: string;
  /** QEMU NIC model (default e1000); the kernel must have its driver. */
  nic?: string;
  /** Guest memory in MiB (default 768: the initramfs holds Node, ~100 MB unpacked). */
  memoryMb?: number;
  /** Kernel command line (default `console=ttyS1 panic=-1`; keep the kernel's console off ttyS0). */
  append?: string;
  /** QEMU binary (default qemu-system-x86_64 from PATH). */
  qemu?: string;
  /** More QEMU arguments, appended. */
  extraArgs?: string[];
  /** A reboot in the guest restarts it in the same QEMU process (default: QEMU exits, -no-reboot). */
  allowReboot?: boolean;
  /** child_process.spawn, or a stand-in. */
  spawn?: SpawnLike;
  /** Progress lines for a person (not the serial output). */
  log?: (line: string) => void;
}

export interface BootResult {
  /** /proc/sys/kernel/random/boot_id as /init printed it. */
  bootId: string;
  /** From spawning QEMU to /init's ready line (network up, agent started). */
  readyMs: number;
  /** From spawning QEMU to the agent's "connected to console" (only with waitForAgent). */
  agentConnectedMs?: number;
}

export interface ExecResult {
  /** stdout and stderr together, \r removed. */
  output: string;
  code: number;
}

const AGENT_CONNECTED_RE = /"msg":"connected to console"/;
/**
 * A command and its marker lines must fit in the console's tty buffer (4095 bytes in canonical
 * mode; longer lines are cut). Files go in with writeFile, in chunks of this size.
 */
const MAX_COMMAND = 3600;
/** Keep the tail of the console log in memory; the whole of it is in <runDir>/console.log. */
const MAX_LOG_CHARS = 4 << 20;

// Closes on parent death too: the wrapper shell below kills QEMU when fd 3 reaches EOF, which
// happens when this process exits in any way (even SIGKILL), so no guest outlives its owner.
const WATCHDOG = `{ cat <&3 >/dev/null 2>&1; kill -TERM $$ 2>/dev/null; } </dev/null >/dev/null 2>&1 & exec "$@" 3<&-`;

const live = new Set<VmGuest>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const g of live) g.killNow();
  });
}

interface PendingExec {
  id: string;
  raw: string;
  resolve: (r: ExecResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class VmGuest {
  readonly name: string;
  private readonly opts: VmGuestOptions;
  private readonly spawnFn: SpawnLike;
  private proc: ChildProcess | null = null;
  private consoleLog = "";
  private consoleFile: fs.WriteStream | null = null;
  private readonly agentLogFile: string;
  private readonly kernelLogFile: string;
  private pending: PendingExec | null = null;
  private execQueue: Promise<unknown> = Promise.resolve();
  private readyWaiter: ((line: string) => void) | null = null;
  private readyScan = "";
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private exitWaiters: (() => void)[] = [];
  private startedAt = 0;

  constructor(opts: VmGuestOptions) {
    this.opts = opts;
    this.name = opts.name;
    this.spawnFn = opts.spawn ?? nodeSpawn;
    this.agentLogFile = path.join(opts.runDir, "agent.log");
    this.kernelLogFile = path.join(opts.runDir, "kernel.log");
  }

  /** The QEMU command line (without the watchdog wrapper). */
  qemuArgs(): string[] {
    const o = this.opts;
    return [
      "-name", o.name,
      "-nodefaults", "-no-user-config",
      "-machine", "pc", "-cpu", "max", "-smp", "1", "-m", String(o.memoryMb ?? 768),
      "-kernel", o.kernel,
      "-initrd", o.initrd,
      "-append", o.append ?? "console=ttyS1 panic=-1",
      "-display", "none", "-monitor", "none",
      "-serial", "stdio",
      "-serial", `file:${this.kernelLogFile}`,
      "-serial", `file:${this.agentLogFile}`,
      "-netdev", "user,id=n0", "-device", `${o.nic ?? "e1000"},netdev=n0`,
      ...(o.allowReboot ? [] : ["-no-reboot"]),
      ...(o.extraArgs ?? []),
    ];
  }

  get running(): boolean {
    return this.proc !== null && this.exitInfo === null;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** What /init and the shell printed on ttyS0 so far (the last 4 MiB), commands' output included. */
  serialLog(): string {
    return this.consoleLog;
  }

  /** The kernel's console (ttyS1): boot messages, livepatch and module messages, panics. */
  kernelLog(): string {
    return readLog(this.kernelLogFile);
  }

  /** The agent's output (ttyS2): one JSON object per line. */
  agentLog(): string {
    return readLog(this.agentLogFile);
  }

  /**
   * Starts QEMU and resolves when /init says the guest is up (network configured, agent started),
   * and with `waitForAgent` once the agent has logged "connected to console".
   */
  async boot(opts: { timeoutMs?: number; waitForAgent?: boolean } = {}): Promise<BootResult> {
    if (this.proc) throw new Error(`${this.name}: already booted`);
    const timeoutMs = opts.timeoutMs ?? 120_000;
    fs.mkdirSync(this.opts.runDir, { recursive: true });
    fs.writeFileSync(this.agentLogFile, "");
    fs.writeFileSync(this.kernelLogFile, "");
    this.consoleFile = fs.createWriteStream(path.join(this.opts.runDir, "console.log"));
    this.startedAt = Date.now();
    const qemu = this.opts.qemu ?? "qemu-system-x86_64";
    this.opts.log?.(`${this.name}: booting ${path.basename(this.opts.kernel)} (${qemu}, ${this.opts.memoryMb ?? 768} MiB)`);
    const proc = this.spawnFn("sh", ["-c", WATCHDOG, "vm-guest", qemu, ...this.qemuArgs()], { stdio: ["pipe", "pipe", "pipe", "pipe"] });
    this.proc = proc;
    live.add(this);
    installExitHook();
    proc.stdin!.on("error", () => {}); // EPIPE once QEMU is gone; exit handling reports it
    proc.stdout!.setEncoding("utf8");
    proc.stdout!.on("data", (d: string) => this.onConsole(d));
    proc.stderr!.setEncoding("utf8");
    proc.stderr!.on("data", (d: string) => this.onConsole(d));
    proc.once("exit", (code, signal) => this.onExit(code, signal));
    proc.once("error", (err) => {
      this.onConsole(`\n[vm-guest] cannot start ${qemu}: ${err.message}\n`);
      this.onExit(null, null);
    });

    const deadline = this.startedAt + timeoutMs;
    const readyLine = await this.race(
      new Promise<string>((resolve) => (this.readyWaiter = resolve)),
      deadline,
      `the guest did not come up in ${timeoutMs} ms`,
    );
    const readyMs = Date.now() - this.startedAt;
    const bootId = /boot_id=(\S+)/.exec(readyLine)?.[1] ?? "";
    this.opts.log?.(`${this.name}: up in ${(readyMs / 1000).toFixed(1)} s (boot id ${bootId})`);
    if (!opts.waitForAgent) return { bootId, readyMs };
    await this.waitForAgentLog(AGENT_CONNECTED_RE, Math.max(0, deadline - Date.now()));
    const agentConnectedMs = Date.now() - this.startedAt;
    this.opts.log?.(`${this.name}: agent connected ${(agentConnectedMs / 1000).toFixed(1)} s after start`);
    return { bootId, readyMs, agentConnectedMs };
  }

  /**
   * Reboots the guest from its shell (needs allowReboot) and resolves once the new boot's ready
   * line is printed, with its boot id. The command is not run by exec: it never returns.
   */
  async reboot(opts: { command?: string; timeoutMs?: number } = {}): Promise<BootResult> {
    if (!this.opts.allowReboot) throw new Error(`${this.name}: started without allowReboot; a reboot would stop QEMU`);
    await this.execQueue;
    const started = Date.now();
    this.readyScan = "";
    const ready = new Promise<string>((resolve) => (this.readyWaiter = resolve));
    this.proc!.stdin!.write(`${opts.command ?? "systemctl reboot"}\n`);
    const line = await this.race(ready, started + (opts.timeoutMs ?? 180_000), `the guest did not come back from a reboot in ${opts.timeoutMs ?? 180_000} ms`);
    const bootId = /boot_id=(\S+)/.exec(line)?.[1] ?? "";
    this.opts.log?.(`${this.name}: rebooted in ${((Date.now() - started) / 1000).toFixed(1)} s (boot id ${bootId})`);
    return { bootId, readyMs: Date.now() - started };
  }

  /** Resolves with the agent log once it matches `re`. */
  async waitForAgentLog(re: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.agentLog();
      if (re.test(text)) return text;
      if (!this.running) throw this.failure(`QEMU exited while waiting for the agent to log ${re}`);
      if (Date.now() > deadline) throw this.failure(`the agent did not log ${re} in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Runs `cmd` with the guest's root shell (busybox sh, in a subshell, stdin /dev/null, stderr
   * into stdout). One command at a time; the exit code is the command's.
   */
  exec(cmd: string, opts: { timeoutMs?: number } = {}): Promise<ExecResult> {
    const next = this.execQueue.then(() => this.execNow(cmd, opts.timeoutMs ?? 30_000));
    this.execQueue = next.catch(() => {});
    return next;
  }

  private execNow(cmd: string, timeoutMs: number): Promise<ExecResult> {
    if (!this.running) return Promise.reject(this.failure("the guest is not running"));
    if (Buffer.byteLength(cmd) > MAX_COMMAND) {
      return Promise.reject(new Error(`${this.name}: a command longer than ${MAX_COMMAND} bytes would not fit the console's tty buffer (copy files in with writeFile)`));
    }
    const id = crypto.randomBytes(6).toString("hex");
    // The markers are printed by printf from pieces, so the command's own text never matches them.
    const script =
      `printf '\\n%s\\n' '@@SPLICER-BEGIN-'${id}'@@'\n` +
      `(\n${cmd}\n) </dev/null 2>&1\n` +
      `printf '\\n%s:%s\\n' '@@SPLICER-END-'${id}'@@' "$?"\n`;
    return new Promise<ExecResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        const p = this.pending;
        this.pending = null;
        reject(this.failure(`command timed out after ${timeoutMs} ms: ${cmd}\n--- output so far ---\n${p ? clean(p.raw) : ""}`));
      }, timeoutMs);
      this.pending = { id, raw: "", resolve, reject, timer };
      this.proc!.stdin!.write(script);
    });
  }

  /** Writes a file in the guest over the console (base64 in chunks; slow: ~20 KB/s), checking its size. */
  async writeFile(guestPath: string, data: Buffer | string, opts: { mode?: number } = {}): Promise<void> {
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    const q = `'${guestPath.replace(/'/g, `'\\''`)}'`;
    const must = async (cmd: string) => {
      const r = await this.exec(cmd);
      if (r.code !== 0) throw new Error(`${this.name}: writing ${guestPath} failed (exit ${r.code}): ${r.output.trim()}`);
      return r.output;
    };
    await must(`: > ${q}`);
    const b64 = bytes.toString("base64");
    // A multiple of 4 (each chunk decodes on its own), and short: the serial line has no flow
    // control, and a 3,000-byte line was seen cut short on a busy host.
    const chunk = 1024;
    for (let i = 0; i < b64.length; i += chunk) await must(`printf %s '${b64.slice(i, i + chunk)}' | base64 -d >> ${q}`);
    const size = Number((await must(`wc -c < ${q}`)).trim());
    if (size !== bytes.length) throw new Error(`${this.name}: ${guestPath} has ${size} bytes, expected ${bytes.length}`);
    if (opts.mode !== undefined) await must(`chmod ${opts.mode.toString(8)} ${q}`);
  }

  /** Stops the guest (SIGTERM to QEMU, SIGKILL after 5 s). */
  async stop(): Promise<void> {
    if (!this.proc || this.exitInfo) return;
    const exited = new Promise<void>((r) => this.exitWaiters.push(r));
    this.proc.kill("SIGTERM");
    const t = setTimeout(() => this.proc?.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(t);
  }

  /** Synchronous kill, for process exit. */
  killNow(): void {
    if (this.proc && !this.exitInfo) this.proc.kill("SIGKILL");
  }

  private onConsole(text: string): void {
    this.consoleLog += text;
    if (this.consoleLog.length > MAX_LOG_CHARS) this.consoleLog = this.consoleLog.slice(-MAX_LOG_CHARS / 2);
    this.consoleFile?.write(text);
    if (this.readyWaiter) {
      this.readyScan = (this.readyScan + text).slice(-8192);
      const m = new RegExp(`${READY_MARKER}[^\\n]*\\n`).exec(this.readyScan.replace(/\r/g, ""));
      if (m) {
        const w = this.readyWaiter;
        this.readyWaiter = null;
        w(m[0]);
      }
    }
    const p = this.pending;
    if (!p) return;
    p.raw += text;
    const out = clean(p.raw);
    const begin = `@@SPLICER-BEGIN-${p.id}@@\n`;
    const b = out.indexOf(begin);
    if (b < 0) return;
    const endRe = new RegExp(`\\n@@SPLICER-END-${p.id}@@:(\\d+)\\n`);
    const e = endRe.exec(out.slice(b + begin.length));
    if (!e) return;
    clearTimeout(p.timer);
    this.pending = null;
    p.resolve({ output: out.slice(b + begin.length, b + begin.length + e.index), code: Number(e[1]) });
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exitInfo) return;
    this.exitInfo = { code, signal };
    live.delete(this);
    // Closing our end of fd 3 ends the watchdog.
    (this.proc?.stdio[3] as Writable | null | undefined)?.destroy();
    this.consoleFile?.end();
    const p = this.pending;
    this.pending = null;
    if (p) {
      clearTimeout(p.timer);
      p.reject(this.failure("QEMU exited during a command"));
    }
    for (const w of this.exitWaiters.splice(0)) w();
    this.opts.log?.(`${this.name}: QEMU exited (${signal ?? `code ${code}`})`);
  }

  private failure(what: string): Error {
    const tail = (text: string, n: number) => text.replace(/\r/g, "").split("\n").slice(-n).join("\n");
    const exit = this.exitInfo ? ` (QEMU exited: ${this.exitInfo.signal ?? `code ${this.exitInfo.code}`})` : "";
    return new Error(
      `${this.name}: ${what}${exit}\n--- console (ttyS0), last lines ---\n${tail(this.consoleLog, 30)}\n--- kernel (ttyS1), last lines ---\n${tail(this.kernelLog(), 30)}`,
    );
  }

  private race<T>(p: Promise<T>, deadline: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(this.failure(what)), Math.max(0, deadline - Date.now()));
      const onExit = () => reject(this.failure("QEMU exited before the guest was up"));
      if (this.exitInfo) onExit();
      else this.exitWaiters.push(onExit);
      p.then(
        (v) => {
          clearTimeout(t);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(t);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }
}

function clean(raw: string): string {
  return raw.replace(/\r/g, "");
}

function readLog(file: string): string {
  try {
    return fs.readFileSync(file, "utf8").replace(/\r/g, "");
  } catch {
    return "";
  }
}
