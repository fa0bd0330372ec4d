// The real kernel: livepatch state from sysfs (/sys/kernel/livepatch/<name>/{enabled,transition}).
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { LivepatchSchema } from "../protocol";
import { silentLogger, type Logger } from "../log";
import type { HostFacts, KernelBackend, Livepatch } from "./types";

export interface LivepatchBackendOptions {
  /** The sysfs mount point; a fake tree in tests. */
  sysRoot?: string;
  log?: Logger;
}

function isGone(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  // ENOENT/ENOTDIR: the patch module was removed between readdir and read.
  return code === "ENOENT" || code === "ENOTDIR";
}

async function readFlag(file: string): Promise<boolean> {
  return (await fs.readFile(file, "utf8")).trim() === "1";
}

export class LivepatchBackend implements KernelBackend {
  readonly name = "livepatch" as const;
  readonly livepatchDir: string;
  private readonly log: Logger;

  constructor(opts: LivepatchBackendOptions = {}) {
    this.livepatchDir = path.join(opts.sysRoot ?? "/sys", "kernel", "livepatch");
    this.log = opts.log ?? silentLogger;
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
      const dir = path.join(this.livepatchDir, name);
      try {
        const enabled = await readFlag(path.join(dir, "enabled"));
        let transition = false;
        try {
          transition = await readFlag(path.join(dir, "transition"));
        } catch (err) {
          // Kernels before 4.12 have no `transition` attribute.
          if (!isGone(err)) throw err;
        }
        const lp = { name, enabled, transition };
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
}
