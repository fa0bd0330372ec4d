import crypto from "node:crypto";
import type { AuditProblem } from "@/lib/api/schemas";
import { eventHash, GENESIS_HASH, type ChainedFields } from "./chain";

// Anchoring the hash chain outside the database. The chain alone proves nothing to someone who can
// write the database: they can change an event and recompute every later hash, or delete the
// newest events. Two anchors, both made with a secret key kept in the console's data dir
// (lib/audit/anchor-store.ts), close that:
// - every event carries `mac` = HMAC(key, its hash): a rewritten chain has no valid MACs;
// - checkpoints (seq, hash, time) of the chain's head, MACed and appended to a file in the data
//   dir shortly after events are appended: a chain whose newest events were removed no longer
//   holds the checkpointed event, or ends before it.
// Events written before anchoring existed have no MAC; the first checkpoint's hash covers them.

const EVENT_CONTEXT = "splicer-audit-event\n";
const CHECKPOINT_CONTEXT = "splicer-audit-checkpoint\n";

export interface Checkpoint {
  seq: bigint;
  hash: string;
  /** When the checkpoint was written (ISO 8601). */
  at: string;
}

export interface SignedCheckpoint extends Checkpoint {
  mac: string;
}

function hmac(key: Buffer, text: string): string {
  return crypto.createHmac("sha256", key).update(text).digest("hex");
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && crypto.timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export function eventMac(key: Buffer, hash: string): string {
  return hmac(key, EVENT_CONTEXT + hash);
}

export function checkpointMac(key: Buffer, cp: Checkpoint): string {
  return hmac(key, `${CHECKPOINT_CONTEXT}${cp.seq}\n${cp.hash}\n${cp.at}`);
}

/** One line of the checkpoint file (JSON, with its newline), well under PIPE_BUF so one write is atomic. */
export function checkpointLine(key: Buffer, cp: Checkpoint): string {
  const signed = { seq: cp.seq.toString(), hash: cp.hash, at: cp.at, mac: checkpointMac(key, cp) };
  return JSON.stringify(signed) + "\n";
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Parses one line without checking its MAC; null when it is not a checkpoint at all. */
export function parseCheckpointLine(line: string): SignedCheckpoint | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null) return null;
  const { seq, hash, at, mac } = v as Record<string, unknown>;
  if (typeof seq !== "string" || !/^\d{1,19}$/.test(seq)) return null;
  if (typeof hash !== "string" || !HEX64.test(hash) || typeof mac !== "string" || !HEX64.test(mac)) return null;
  if (typeof at !== "string" || Number.isNaN(Date.parse(at))) return null;
  return { seq: BigInt(seq), hash, at, mac };
}

export interface CheckpointLog {
  /** Checkpoints whose MAC is valid, in file order. */
  valid: SignedCheckpoint[];
  /** 1-based line numbers of checkpoints with a wrong MAC: forged, or made with another key. */
  forgedLines: number[];
  /** 1-based line numbers that are not checkpoints (e.g. a write cut short by a crash). */
  unreadableLines: number[];
}

export function parseCheckpointLog(text: string, key: Buffer): CheckpointLog {
  const log: CheckpointLog = { valid: [], forgedLines: [], unreadableLines: [] };
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    const cp = parseCheckpointLine(line);
    if (!cp) log.unreadableLines.push(i + 1);
    else if (!sameHex(cp.mac, checkpointMac(key, cp))) log.forgedLines.push(i + 1);
    else log.valid.push(cp);
  });
  return log;
}

export interface Finding {
  problem: AuditProblem;
  /** The first event found wrong, when there is one. */
  seq: string | null;
  reason: string;
  truncation?: { lastSeq: string | null; checkpointSeq: string; checkpointAt: string };
}

export interface AnchoredRow extends ChainedFields {
  seq: bigint;
  prevHash: string;
  hash: string;
  mac: string | null;
}

/**
 * Checks the chain row by row, oldest first, against the key and the (valid) checkpoints. Pure:
 * the caller pages rows in from the database. Returns the first finding, or null when all is well.
 */
export class ChainCheck {
  private prevHash = GENESIS_HASH;
  private lastSeq: bigint | null = null;
  private sawMac = false;
  private next = 0;
  private readonly checkpoints: SignedCheckpoint[];
  private readonly firstCheckpointSeq: bigint | null;
  checked = 0;

  constructor(private readonly opts: { key: Buffer; checkpoints: SignedCheckpoint[] }) {
    this.checkpoints = [...opts.checkpoints].sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
    this.firstCheckpointSeq = this.checkpoints[0]?.seq ?? null;
  }

  feed(r: AnchoredRow): Finding | null {
    const seq = r.seq.toString();
    if (r.prevHash !== this.prevHash) return { problem: "link", seq, reason: "link broken: an event before it was removed or changed" };
    if (eventHash(this.prevHash, r) !== r.hash) return { problem: "content", seq, reason: "content changed after it was written" };
    // A checkpointed event that the walk stepped over although the links hold: the chain was cut
    // there and grew again from the cut.
    const skipped = this.checkpoints[this.next];
    if (skipped && skipped.seq < r.seq) {
      return { problem: "checkpoint", seq: skipped.seq.toString(), reason: `event #${skipped.seq}, recorded by the checkpoint of ${skipped.at}, is missing: it was deleted` };
    }
    if (r.mac !== null) {
      if (!sameHex(r.mac, eventMac(this.opts.key, r.hash))) {
        return { problem: "mac", seq, reason: "its MAC does not match: the event was changed or inserted, and the chain's hashes recomputed, by someone without the console's audit key" };
      }
      this.sawMac = true;
    } else if (this.sawMac) {
      return { problem: "unanchored", seq, reason: "it has no MAC although earlier events do: it was inserted or rewritten in the database" };
    } else if (this.firstCheckpointSeq === null || r.seq > this.firstCheckpointSeq) {
      return { problem: "unanchored", seq, reason: "it has no MAC and no checkpoint covers it (events written before anchoring are covered once the console has started and written its first checkpoint)" };
    }
    for (; this.checkpoints[this.next]?.seq === r.seq; this.next++) {
      const cp = this.checkpoints[this.next];
      if (cp.hash !== r.hash) {
        return { problem: "checkpoint", seq, reason: `it does not match the checkpoint of ${cp.at}: the log was rewritten at or before this event` };
      }
    }
    this.prevHash = r.hash;
    this.lastSeq = r.seq;
    this.checked++;
    return null;
  }

  /** After the last row: checkpoints beyond the chain's end mean its newest events were removed. */
  finish(): Finding | null {
    const rest = this.checkpoints.slice(this.next);
    if (rest.length === 0) return null;
    const newest = rest[rest.length - 1];
    const last = this.lastSeq;
    const lastSeq = last === null ? null : last.toString();
    const upTo = last === null ? `every event up to #${newest.seq}` : `events #${last + 1n}…#${newest.seq} (up to ${newest.seq - last})`;
    return {
      problem: "truncated",
      seq: null,
      reason: `the newest events were removed after the checkpoint at seq ${newest.seq} (${newest.at}): the log ${last === null ? "is empty" : `ends at seq ${last}`}, so ${upTo} are gone`,
      truncation: { lastSeq, checkpointSeq: newest.seq.toString(), checkpointAt: newest.at },
    };
  }
}
