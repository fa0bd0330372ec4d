// Loading the kept patches again when the agent starts on a new boot, before it connects to the
// console (which may be down: a host must not lose its fixes because the console is). Each
// module's hash and signature are checked again with the console key pinned at enrollment.
import { verifyArtifact } from "../artifact";
import type { KernelBackend } from "../backends/types";
import { errorMessage, silentLogger, type Logger } from "../log";
import { RELOAD, stackingRefusal, type ReloadOutcome, type ReloadReport } from "../protocol";
import type { KeptPatch, KeptPatchStore } from "./kept-patches";

export interface BootFacts {
  bootId: string;
  kernelRelease: string;
  /** `uname -v`: a rebuilt kernel may keep the release string. */
  kernelVersion: string;
}

/** What to do with one kept patch on this boot; `skip` ones are not part of a reload report. */
export type ReloadStep =
  | { rec: KeptPatch; do: "load" }
  | { rec: KeptPatch; do: "report"; outcome: ReloadOutcome; reason?: string }
  | { rec: KeptPatch; do: "skip"; why: string };

/**
 * The decision, pure: for each kept patch (in the order they were applied), load it, report why
 * not, or leave it alone. A patch applied in this very boot that is not live any more was taken
 * out after it was applied (by hand, or by something else): the agent does not fight that; the
 * console sees the drift and decides.
 */
export function planReload(o: { kept: readonly KeptPatch[]; boot: BootFacts; live: ReadonlySet<string>; enabled: boolean }): ReloadStep[] {
  return [...o.kept]
    .sort((a, b) => a.keptAt.localeCompare(b.keptAt) || a.moduleName.localeCompare(b.moduleName))
    .map((rec): ReloadStep => {
      if (rec.kernelRelease !== o.boot.kernelRelease) {
        return { rec, do: "report", outcome: RELOAD.other_kernel, reason: `built for ${rec.kernelRelease}; this boot runs ${o.boot.kernelRelease}` };
      }
      if (rec.kernelVersion && o.boot.kernelVersion && rec.kernelVersion !== o.boot.kernelVersion) {
        return { rec, do: "report", outcome: RELOAD.other_kernel, reason: `applied to kernel build "${rec.kernelVersion}"; this boot runs "${o.boot.kernelVersion}"` };
      }
      if (o.live.has(rec.moduleName)) return { rec, do: "report", outcome: RELOAD.already_live };
      if (rec.bootId === o.boot.bootId) return { rec, do: "skip", why: "applied in this boot and taken out since" };
      if (!o.enabled) return { rec, do: "report", outcome: RELOAD.disabled };
      return { rec, do: "load" };
    });
}

export interface BootReloaderOptions {
  store: KeptPatchStore;
  backend: KernelBackend;
  boot: () => Promise<BootFacts>;
  /** The console key pinned at enrollment (null before enrollment: nothing can be verified). */
  consoleKey: () => Promise<string | null>;
  log?: Logger;
  /** For each module's load and transition. */
  timeoutMs?: number;
}

export class BootReloader {
  private readonly log: Logger;

  constructor(private readonly opts: BootReloaderOptions) {
    this.log = opts.log ?? silentLogger;
  }

  /**
   * Runs once per boot: on a boot it already handled (the agent restarted) it returns that boot's
   * report and changes nothing. Never throws for a patch: each outcome is in the report.
   */
  async run(): Promise<ReloadReport | null> {
    const { store, backend } = this.opts;
    const boot = await this.opts.boot();
    const last = await store.lastReport();
    if (last?.bootId === boot.bootId) return last;
    const kept = await store.list();
    if (kept.length === 0 && !last) return null;

    const live = new Set((await backend.listLivepatches()).filter((l) => l.enabled).map((l) => l.name));
    const steps = planReload({ kept, boot, live, enabled: await store.reloadEnabled() });
    const key = await this.opts.consoleKey();
    const patches: ReloadReport["patches"] = [];
    // What is live as the reload goes: a patch built on another loads only once that one is.
    const liveNow = new Set(live);
    for (const step of steps) {
      const { rec } = step;
      const entry = { moduleName: rec.moduleName, patchId: rec.patchId, kernelRelease: rec.kernelRelease };
      if (step.do === "skip") continue;
      if (step.do === "report") {
        if (step.outcome === RELOAD.already_live) await store.loadedIn(rec.moduleName, boot.bootId);
        patches.push({ ...entry, outcome: step.outcome, ...(step.reason ? { reason: step.reason } : {}) });
        continue;
      }
      const stacking = stackingRefusal({ kind: "apply", moduleName: rec.moduleName, requires: rec.requires }, liveNow);
      const outcome = stacking ? { outcome: RELOAD.refused, reason: stacking } : await this.load(rec, boot, key);
      if (outcome.outcome === RELOAD.loaded) liveNow.add(rec.moduleName);
      patches.push({ ...entry, ...outcome });
      this.log[outcome.outcome === RELOAD.loaded ? "info" : "warn"]("kept patch at boot", { moduleName: rec.moduleName, ...outcome });
    }
    const report: ReloadReport = { bootId: boot.bootId, at: new Date().toISOString(), patches };
    await store.saveReport(report);
    return report;
  }

  private async load(rec: KeptPatch, boot: BootFacts, key: string | null): Promise<{ outcome: ReloadOutcome; reason?: string }> {
    const bytes = await this.opts.store.bytes(rec.moduleName);
    if (!bytes) return { outcome: RELOAD.refused, reason: "the kept module file is missing" };
    if (!key) return { outcome: RELOAD.refused, reason: "no console key is pinned: the module cannot be verified" };
    const verdict = verifyArtifact({ bytes, expected: rec, signature: rec.signature, publicKeyPem: key });
    if (!verdict.ok) return { outcome: RELOAD.refused, reason: verdict.reason };
    try {
      await this.opts.backend.apply({ moduleName: rec.moduleName, artifact: bytes, timeoutMs: this.opts.timeoutMs ?? 120_000 });
    } catch (err) {
      return { outcome: RELOAD.failed, reason: errorMessage(err) };
    }
    await this.opts.store.loadedIn(rec.moduleName, boot.bootId);
    return { outcome: RELOAD.loaded };
  }
}
