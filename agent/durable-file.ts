// Files written so that a crash or a concurrent writer never leaves a torn one: a temporary
// file beside the target, fsynced, then renamed (replace) or linked (create only) into place.
// The console uses these too (signing keys, artifacts): the agent may not import the console's
// code, the console may import the agent's.
import { randomBytes } from "node:crypto";
import * as nodeFs from "node:fs/promises";
import * as path from "node:path";

/** The subset of node:fs/promises these use; injectable to test failure paths. */
export type DurableFs = Pick<typeof nodeFs, "mkdir" | "writeFile" | "rename" | "readFile" | "rm" | "chmod" | "open" | "readdir">;

/** Writes `data` to a new temporary file beside `file` (fsynced, with `mode`); returns its path. */
export async function writeDurableTemp(file: string, data: string | Uint8Array, mode: number, fs: DurableFs = nodeFs): Promise<string> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
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
    return tmp;
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** Replaces `file` so that readers see either the old or the new content, never a torn file. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600, fs: DurableFs = nodeFs): Promise<void> {
  const tmp = await writeDurableTemp(file, data, mode, fs);
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * Publishes `data` at `file` only if nothing is there yet; false when another writer won. The
 * content appears complete or not at all (a link is exclusive).
 */
export async function publishExclusive(file: string, data: string | Uint8Array, mode: number, fs: DurableFs & Pick<typeof nodeFs, "link"> = nodeFs): Promise<boolean> {
  const tmp = await writeDurableTemp(file, data, mode, fs);
  try {
    await fs.link(tmp, file);
    return true;
  } catch (err) {
    if ((err as { code?: string } | null)?.code === "EEXIST") return false;
    throw err;
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** Creates a directory owner-only (0700), tightening it if it already exists (mkdir's mode is filtered by the umask and ignored for an existing one). */
export async function ensurePrivateDir(dir: string, fs: DurableFs = nodeFs): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.chmod(dir, 0o700);
}
