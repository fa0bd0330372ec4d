// The agent's persistent state: the per-host credential (and, when the host has none, a
// generated machine id). Written atomically with owner-only permissions: the credential is the
// host's identity towards the console.
import { randomBytes } from "node:crypto";
import * as nodeFs from "node:fs/promises";
import * as path from "node:path";
import { z } from "zod";
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
  /** Forget the credential (host revoked). Must not fail when there is none. */
  clear(): Promise<void>;
}

/** The subset of node:fs/promises the state code uses; injectable to test failure paths. */
export type StateFs = Pick<typeof nodeFs, "mkdir" | "writeFile" | "rename" | "readFile" | "rm" | "chmod" | "open">;

export const CREDENTIAL_FILE = "credential.json";
export const MACHINE_ID_FILE = "machine-id";

/**
 * Write `data` to `file` so that readers see either the old or the new content, never a torn
 * file: write a temporary file next to it, fsync, then rename over the target.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600, fs: StateFs = nodeFs): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    const fh = await fs.open(tmp, "wx", mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    // The umask may have narrowed the mode at open(); it cannot have widened it, but be explicit.
    await fs.chmod(tmp, mode);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** Creates the state directory owner-only (0700), tightening it if it already exists. */
export async function ensureStateDir(dir: string, fs: StateFs = nodeFs): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.chmod(dir, 0o700);
}

function isNotFound(err: unknown): boolean {
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
    await ensureStateDir(this.stateDir, this.fs);
    await writeFileAtomic(this.file, JSON.stringify(StoredCredentialSchema.parse(cred), null, 2) + "\n", 0o600, this.fs);
  }

  async clear(): Promise<void> {
    await this.fs.rm(this.file, { force: true });
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
  async clear() {
    this.value = null;
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
  await ensureStateDir(stateDir, fs);
  await writeFileAtomic(file, id + "\n", 0o600, fs);
  return id;
}
