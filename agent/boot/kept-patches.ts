// The patches this host should have live, kept by the agent so that it can load them again after
// a reboot into the same kernel (as kpatch.service and Ksplice's install_on_reboot do): the module
// the console sent, with the signed fields and signature it came with, so the same checks run
// again before it is loaded. A successful apply keeps it; a successful revert forgets it.
import * as nodeFs from "node:fs/promises";
import * as path from "node:path";
import { z } from "zod";
import { writeFileAtomic, type DurableFs } from "../durable-file";
import { errorMessage, silentLogger, type Logger } from "../log";
import { isNotFound } from "../state";
import { LivepatchSchema, MAX_STACK, ReloadReportSchema, type ArtifactSignedFields, type ReloadReport } from "../protocol";

export const KeptPatchSchema = z.object({
  moduleName: LivepatchSchema.shape.name,
  patchId: z.string().min(1).max(64),
  kernelRelease: z.string().min(1).max(128),
  artifactSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The console's signature over the four fields above (checked again before a reload). */
  signature: z.string().min(1).max(200),
  /** `uname -v` when it was applied: the same release string can name a rebuilt kernel. */
  kernelVersion: z.string().max(256),
  /** The boot it was last loaded in (by a job or by a reload). */
  bootId: z.string().max(64),
  keptAt: z.string(),
  /** Livepatches it was built on (the job's `requires`): at boot it is loaded only once they are live. */
  requires: z.array(LivepatchSchema.shape.name).max(MAX_STACK).default([]),
});
export type KeptPatch = z.infer<typeof KeptPatchSchema>;

export interface KeepRequest {
  fields: ArtifactSignedFields;
  signature: string;
  bytes: Uint8Array;
  kernelVersion: string;
  bootId: string;
  requires?: readonly string[];
}

export interface KeptPatchStore {
  keep(p: KeepRequest): Promise<void>;
  forget(moduleName: string): Promise<void>;
  /** Every readable record; an unreadable one is left out (and logged), never fatal. */
  list(): Promise<KeptPatch[]>;
  /** The kept module's bytes, or null when the file is gone. */
  bytes(moduleName: string): Promise<Uint8Array | null>;
  /** Records that the patch is live in this boot. */
  loadedIn(moduleName: string, bootId: string): Promise<void>;
  /** Whether patches are loaded again at boot (the console's setting, kept for the next boot). */
  reloadEnabled(): Promise<boolean>;
  setReloadEnabled(enabled: boolean): Promise<void>;
  lastReport(): Promise<ReloadReport | null>;
  saveReport(r: ReloadReport): Promise<void>;
}

const SettingsSchema = z.object({ reloadAtBoot: z.boolean() });
const MODULE_NAME = LivepatchSchema.shape.name;

/** Kept in `<stateDir>/kept/`: `<module>.ko` and `<module>.json` each, `settings.json`, `last-reload.json`. */
export class FileKeptPatches implements KeptPatchStore {
  private readonly dir: string;
  private readonly fs: DurableFs;
  private readonly log: Logger;

  constructor(opts: { stateDir: string; fs?: DurableFs; log?: Logger }) {
    this.dir = path.join(opts.stateDir, "kept");
    this.fs = opts.fs ?? nodeFs;
    this.log = opts.log ?? silentLogger;
  }

  private file(moduleName: string, ext: "ko" | "json"): string {
    // Names come from signed fields and records this agent wrote; checked anyway, as a path part.
    return path.join(this.dir, `${MODULE_NAME.parse(moduleName)}.${ext}`);
  }

  async keep(p: KeepRequest): Promise<void> {
    await this.fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const rec: KeptPatch = KeptPatchSchema.parse({ ...p.fields, signature: p.signature, kernelVersion: p.kernelVersion, bootId: p.bootId, keptAt: new Date().toISOString(), requires: p.requires ?? [] });
    // The module first: a record always names bytes that are there.
    await writeFileAtomic(this.file(rec.moduleName, "ko"), p.bytes, 0o600, this.fs);
    await writeFileAtomic(this.file(rec.moduleName, "json"), JSON.stringify(rec, null, 2) + "\n", 0o600, this.fs);
  }

  async forget(moduleName: string): Promise<void> {
    // The record first: bytes without a record are never loaded.
    await this.fs.rm(this.file(moduleName, "json"), { force: true });
    await this.fs.rm(this.file(moduleName, "ko"), { force: true });
  }

  async list(): Promise<KeptPatch[]> {
    let names: string[];
    try {
      names = await this.fs.readdir(this.dir);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
    const out: KeptPatch[] = [];
    for (const name of names.filter((n) => n.endsWith(".json") && n !== "settings.json" && n !== "last-reload.json").sort()) {
      try {
        out.push(KeptPatchSchema.parse(JSON.parse(await this.fs.readFile(path.join(this.dir, name), "utf8"))));
      } catch (err) {
        this.log.warn("a kept patch record is unreadable; it is not reloaded", { file: name, error: errorMessage(err) });
      }
    }
    return out;
  }

  async bytes(moduleName: string): Promise<Uint8Array | null> {
    try {
      return await this.fs.readFile(this.file(moduleName, "ko"));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async loadedIn(moduleName: string, bootId: string): Promise<void> {
    const file = this.file(moduleName, "json");
    const rec = KeptPatchSchema.parse(JSON.parse(await this.fs.readFile(file, "utf8")));
    await writeFileAtomic(file, JSON.stringify({ ...rec, bootId }, null, 2) + "\n", 0o600, this.fs);
  }

  async reloadEnabled(): Promise<boolean> {
    const s = await this.readJson("settings.json", SettingsSchema);
    return s?.reloadAtBoot ?? true;
  }

  async setReloadEnabled(enabled: boolean): Promise<void> {
    await this.fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(path.join(this.dir, "settings.json"), JSON.stringify({ reloadAtBoot: enabled }) + "\n", 0o600, this.fs);
  }

  async lastReport(): Promise<ReloadReport | null> {
    return this.readJson("last-reload.json", ReloadReportSchema);
  }

  async saveReport(r: ReloadReport): Promise<void> {
    await this.fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(path.join(this.dir, "last-reload.json"), JSON.stringify(r) + "\n", 0o600, this.fs);
  }

  private async readJson<S extends z.ZodType>(name: string, schema: S): Promise<z.infer<S> | null> {
    try {
      return schema.parse(JSON.parse(await this.fs.readFile(path.join(this.dir, name), "utf8")));
    } catch (err) {
      if (!isNotFound(err)) this.log.warn("unreadable agent file; using the default", { file: name, error: errorMessage(err) });
      return null;
    }
  }
}

/** The same in memory: simulated hosts (a simulated reboot keeps it, as a disk would). */
export class MemoryKeptPatches implements KeptPatchStore {
  private readonly records = new Map<string, { rec: KeptPatch; bytes: Uint8Array }>();
  private enabled = true;
  private report: ReloadReport | null = null;

  async keep(p: KeepRequest): Promise<void> {
    const rec = KeptPatchSchema.parse({ ...p.fields, signature: p.signature, kernelVersion: p.kernelVersion, bootId: p.bootId, keptAt: new Date().toISOString(), requires: p.requires ?? [] });
    this.records.set(rec.moduleName, { rec, bytes: p.bytes });
  }
  async forget(moduleName: string): Promise<void> {
    this.records.delete(moduleName);
  }
  async list(): Promise<KeptPatch[]> {
    return [...this.records.values()].map((r) => r.rec).sort((a, b) => a.moduleName.localeCompare(b.moduleName));
  }
  async bytes(moduleName: string): Promise<Uint8Array | null> {
    return this.records.get(moduleName)?.bytes ?? null;
  }
  async loadedIn(moduleName: string, bootId: string): Promise<void> {
    const r = this.records.get(moduleName);
    if (r) r.rec = { ...r.rec, bootId };
  }
  async reloadEnabled(): Promise<boolean> {
    return this.enabled;
  }
  async setReloadEnabled(enabled: boolean): Promise<void> {
    this.enabled = enabled;
  }
  async lastReport(): Promise<ReloadReport | null> {
    return this.report;
  }
  async saveReport(r: ReloadReport): Promise<void> {
    this.report = r;
  }
}
