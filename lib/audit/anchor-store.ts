import "server-only";
// Where the audit chain's anchors live, outside the database: the MAC key at
// `<dataDir>/keys/audit-anchor.key` (32 random bytes, hex, 0600, created at first use exactly
// once even when several console processes start together) and the checkpoint file
// `<dataDir>/audit/checkpoints.jsonl` (one MACed line per checkpoint, appended with O_APPEND in a
// single write, so lines from several processes never interleave).
import crypto from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { ensurePrivateDir, publishExclusive } from "@/agent/durable-file";
import { KEYS_DIR } from "@/lib/signing/signing";
import { prisma } from "@/lib/db/client";
import { isNotFound, readFileIfExists } from "@/lib/files";
import { log } from "@/lib/log";
import { checkpointLine, parseCheckpointLog, type Checkpoint, type CheckpointLog } from "./anchor";

export const AUDIT_KEY_FILE = "audit-anchor.key";
export const CHECKPOINT_DIR = "audit";
export const CHECKPOINT_FILE = "checkpoints.jsonl";

export class AuditKeyError extends Error {}

export const auditKeyPath = (dataDir: string) => path.join(dataDir, KEYS_DIR, AUDIT_KEY_FILE);
export const checkpointPath = (dataDir: string) => path.join(dataDir, CHECKPOINT_DIR, CHECKPOINT_FILE);

/** The key, or null when the data dir has none yet. */
export async function readAuditKey(opts: { dataDir: string }): Promise<Buffer | null> {
  const file = auditKeyPath(opts.dataDir);
  const text = await readFileIfExists(file, "utf8");
  if (text === null) return null;
  if (!/^[0-9a-f]{64}\n?$/.test(text)) throw new AuditKeyError(`${file} is not an audit key (64 hex characters); restore it from backup`);
  return Buffer.from(text.trim(), "hex");
}

const keys = new Map<string, Promise<Buffer>>();

/** The key, created at first use. Cached per data dir: appends pay for it once per process. */
export function loadAuditKey(opts: { dataDir: string }): Promise<Buffer> {
  let p = keys.get(opts.dataDir);
  if (!p) {
    p = (async () => {
      const existing = await readAuditKey(opts);
      if (existing) return existing;
      await ensurePrivateDir(path.join(opts.dataDir, KEYS_DIR));
      await publishExclusive(auditKeyPath(opts.dataDir), crypto.randomBytes(32).toString("hex") + "\n", 0o600);
      // Ours, or the one another process published first.
      const key = await readAuditKey(opts);
      if (!key) throw new AuditKeyError(`${auditKeyPath(opts.dataDir)} vanished while it was being created`);
      return key;
    })();
    p.catch(() => keys.delete(opts.dataDir));
    keys.set(opts.dataDir, p);
  }
  return p;
}

/** Every checkpoint in the file, sorted into valid, forged and unreadable; `exists` false when there is no file. */
export async function readCheckpoints(opts: { dataDir: string; key: Buffer }): Promise<CheckpointLog & { exists: boolean }> {
  const text = await readFileIfExists(checkpointPath(opts.dataDir), "utf8");
  if (text === null) return { valid: [], forgedLines: [], unreadableLines: [], exists: false };
  return { ...parseCheckpointLog(text, opts.key), exists: true };
}

/** The checkpoint on the file's last complete line with a valid MAC, read from the file's tail. */
async function lastCheckpointInFile(file: string, key: Buffer): Promise<{ seq: bigint; hash: string } | null> {
  let fh;
  try {
    fh = await fs.open(file, "r");
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, 4096);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    const text = buf.toString("utf8");
    // From the first newline on (the tail may start mid-line), up to the last one.
    const whole = len < size ? text.slice(text.indexOf("\n") + 1) : text;
    return parseCheckpointLog(whole.slice(0, whole.lastIndexOf("\n") + 1), key).valid.at(-1) ?? null;
  } finally {
    await fh.close();
  }
}

/**
 * Appends a checkpoint of the chain's current head unless the file already ends with it. Returns
 * what it wrote (null when there was nothing new). Several processes may call this at once: each
 * line is one O_APPEND write, so at worst the same head is recorded twice.
 */
export async function writeCheckpoint(opts: { dataDir: string }): Promise<Checkpoint | null> {
  const key = await loadAuditKey(opts);
  const file = checkpointPath(opts.dataDir);
  // The file before the database: whatever it records was the head at some moment before the
  // read below, so a head behind it can only mean that events were removed.
  const last = await lastCheckpointInFile(file, key);
  const head = await prisma.auditEvent.findFirst({ orderBy: { seq: "desc" }, select: { seq: true, hash: true } });
  if (!head) return null;
  if (last && last.seq === head.seq && last.hash === head.hash) return null;
  if (last && last.seq > head.seq) {
    // Never happens unless events were deleted: say so at once, and keep the evidence (no
    // lower checkpoint is written over it until the chain grows past it again).
    log.error({ checkpointSeq: last.seq.toString(), headSeq: head.seq.toString() }, "audit log's head is behind its last checkpoint: events were removed");
    return null;
  }
  const cp: Checkpoint = { seq: head.seq, hash: head.hash, at: new Date().toISOString() };
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const fh = await fs.open(file, "a", 0o600);
  try {
    await fh.write(checkpointLine(key, cp));
    await fh.datasync();
  } finally {
    await fh.close();
  }
  return cp;
}

export interface CheckpointWriter {
  /** Something was appended: write a checkpoint within `delayMs`. */
  kick(): void;
  stop(): Promise<void>;
}

/**
 * Writes a checkpoint shortly after events are appended (kicked by the bus's `audit.appended`,
 * which every console process receives), coalescing bursts into one line, and every `sweepMs` in
 * case a notification was lost. Writes one at start, which anchors a log written before anchoring.
 */
export async function startCheckpointWriter(opts: { dataDir: string; delayMs?: number; sweepMs?: number }): Promise<CheckpointWriter> {
  const delayMs = opts.delayMs ?? 250;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  const run = async (): Promise<void> => {
    try {
      await writeCheckpoint({ dataDir: opts.dataDir });
    } catch (err) {
      log.error({ err }, "writing an audit checkpoint failed");
    }
  };
  const fire = () => {
    timer = null;
    if (running) {
      again = true;
      return;
    }
    running = run().finally(() => {
      running = null;
      if (again && !stopped) {
        again = false;
        kick();
      }
    });
  };
  const kick = () => {
    if (stopped || timer) return;
    timer = setTimeout(fire, delayMs);
  };
  await writeCheckpoint({ dataDir: opts.dataDir });
  const sweep = setInterval(kick, opts.sweepMs ?? 30_000);
  sweep.unref();
  return {
    kick,
    async stop() {
      stopped = true;
      clearInterval(sweep);
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
      await run(); // whatever was appended since the last checkpoint, before the process goes
    },
  };
}
