// The agent's persistent state: the per-host credential (and, when the host has none, a
// generated machine id). Written atomically with owner-only permissions: the credential is the
// host's identity towards the console.
import { randomBytes } from "node:crypto";
import * as nodeFs from "node:fs/promises";
import * as path from "node:path";
import { z } from "zod";
import { ensurePrivateDir, writeFileAtomic, type DurableFs } from "./durable-file";
import { AgentAuthSchema } from "./protocol";

export const StoredCredentialSchema = z.object({
  hostId: AgentAuthSchema.shape.hostId,
  credential: AgentAuthSchema.shape.credential,
  /** The console this credential was issued by. */
  server: z.string().min(1),
  enrolledAt: z.string().optional(),
  /**
   * The console's Ed25519 public key (SPKI PEM), received at enrollment and pinned: artifacts must
   * be signed with it (see pinConsoleKey in ./artifact). Absent in files written before pinning.
   */
  consolePublicKey: z.string().min(1).optional(),
});
export type StoredCredential = z.infer<typeof StoredCredentialSchema>;

/** Where an agent keeps its credential. The fleet simulator keeps all of its agents' in one file. */
export interface CredentialStore {
  load(): Promise<StoredCredential | null>;
  save(cred: StoredCredential): Promise<void>;
  /**
   * Takes the credential out of use (the console refused it) without destroying it: it may be the
   * only proof that this is that host, once an admin restores it. Returns where it was kept, or
   * null when there was none. Must not fail when there is none.
   */
  setAside(): Promise<string | null>;
  /** The most recently set-aside credential, presented at the next enrollment to prove the host. */
  loadSetAside(): Promise<StoredCredential | null>;
}

export type StateFs = DurableFs;

export const CREDENTIAL_FILE = "credential.json";
/** Kept-aside credentials: `credential.json.refused-<UTC timestamp>`; the newest sorts last. */
export const REFUSED_PREFIX = `${CREDENTIAL_FILE}.refused-`;
export const MACHINE_ID_FILE = "machine-id";

export function isNotFound(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: string }).code === "ENOENT";
}

export class FileCredentialStore implements CredentialStore {
  readonly file: string;

  constructor(
    private readonly stateDir: string,
    private readonly fs: StateFs = nodeFs,
  ) {
    this.file = path.join(stateDir, CREDENTIAL_FILE);
  }

  async load(): Promise<StoredCredential | null> {
    let text: string;
    try {
      text = await this.fs.readFile(this.file, "utf8");
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`${this.file} is not valid JSON; remove it and enroll again`);
    }
    const parsed = StoredCredentialSchema.safeParse(json);
    if (!parsed.success) throw new Error(`${this.file} is not a valid credential file; remove it and enroll again`);
    return parsed.data;
  }

  async save(cred: StoredCredential): Promise<void> {
    await ensurePrivateDir(this.stateDir, this.fs);
    await writeFileAtomic(this.file, JSON.stringify(StoredCredentialSchema.parse(cred), null, 2) + "\n", 0o600, this.fs);
  }

  async setAside(): Promise<string | null> {
    // Colons are legal but awkward in file names; the stamp still sorts in time order.
    const aside = path.join(this.stateDir, REFUSED_PREFIX + new Date().toISOString().replace(/:/g, "-"));
    try {
      await this.fs.rename(this.file, aside);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    return aside;
  }

  async loadSetAside(): Promise<StoredCredential | null> {
    let names: string[];
    try {
      names = (await this.fs.readdir(this.stateDir)).filter((n) => n.startsWith(REFUSED_PREFIX)).sort();
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    for (const name of names.reverse()) {
      try {
        const parsed = StoredCredentialSchema.safeParse(JSON.parse(await this.fs.readFile(path.join(this.stateDir, name), "utf8")));
        if (parsed.success) return parsed.data;
      } catch {
        // unreadable: try an older one
      }
    }
    return null;
  }
}

/** Credentials kept in memory only (tests, throwaway agents). */
export class MemoryCredentialStore implements CredentialStore {
  constructor(public value: StoredCredential | null = null) {}
  async load() {
    return this.value;
  }
  async save(cred: StoredCredential) {
    this.value = cred;
  }
  aside: StoredCredential[] = [];
  async setAside() {
    if (!this.value) return null;
    this.aside.push(this.value);
    this.value = null;
    return `memory#${this.aside.length}`;
  }
  async loadSetAside() {
    return this.aside.at(-1) ?? null;
  }
}

/**
 * Consecutive refusals (credential refused, enrollment refused), kept in the state directory so
 * that the backoff survives the process: systemd restarts the agent at a fixed RestartSec (Debian
 * 12's systemd 252 has no RestartSteps=), and the agent waits longer on each consecutive refusal
 * before asking the console again. A successful connection resets it.
 */
export interface RefusalCounter {
  count(): Promise<number>;
  record(): Promise<void>;
  reset(): Promise<void>;
}

export const REFUSALS_FILE = "refusals.json";

export class FileRefusalCounter implements RefusalCounter {
  private readonly file: string;
  constructor(
    private readonly stateDir: string,
    private readonly fs: StateFs = nodeFs,
  ) {
    this.file = path.join(stateDir, REFUSALS_FILE);
  }
  async count(): Promise<number> {
    try {
      const n = (JSON.parse(await this.fs.readFile(this.file, "utf8")) as { count?: unknown }).count;
      return typeof n === "number" && Number.isInteger(n) && n > 0 ? n : 0;
    } catch {
      return 0;
    }
  }
  async record(): Promise<void> {
    const count = (await this.count()) + 1;
    await ensurePrivateDir(this.stateDir, this.fs);
    await writeFileAtomic(this.file, JSON.stringify({ count, at: new Date().toISOString() }) + "\n", 0o600, this.fs);
  }
  async reset(): Promise<void> {
    await this.fs.rm(this.file, { force: true });
  }
}

export class MemoryRefusalCounter implements RefusalCounter {
  constructor(public n = 0) {}
  async count() {
    return this.n;
  }
  async record() {
    this.n++;
  }
  async reset() {
    this.n = 0;
  }
}

/**
 * A machine id for hosts that have none (containers, minimal images): generated once and kept
 * in the state dir so the host keeps its identity across restarts.
 */
export async function loadOrCreateMachineId(stateDir: string, fs: StateFs = nodeFs): Promise<string> {
  const file = path.join(stateDir, MACHINE_ID_FILE);
  try {
    const existing = (await fs.readFile(file, "utf8")).trim();
    if (/^[0-9a-f]{32}$/.test(existing)) return existing;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const id = randomBytes(16).toString("hex");
  await ensurePrivateDir(stateDir, fs);
  await writeFileAtomic(file, id + "\n", 0o600, fs);
  return id;
}
