import "server-only";
import { setTimeout as delay } from "node:timers/promises";
import { BuildFailure, type Builder, type BuildRequest, type BuiltArtifact } from "@/lib/builds/types";
import { livepatchModuleName } from "@/lib/livepatch/module-name";
import { includesOf } from "@/lib/builds/stacking";

// The demo's builder: no compiler, no kernel source. It takes a realistic short while, refuses
// what the analysis says cannot be live-patched, and otherwise produces a JSON description of the
// functions the patch replaces, which the simulated agents "load".

export const SIMULATED_FORMAT = "splicer-simulated-livepatch/1";

export interface SimulatedArtifact {
  format: typeof SIMULATED_FORMAT;
  moduleName: string;
  kernelRelease: string;
  patchId: string;
  replaces: { name: string; object: "vmlinux" }[];
  builtAt: string;
}

export interface SimulateBuilderOptions {
  /** Total simulated build time, spread over the build steps. Default 1500 ms. */
  delayMs?: number;
  /** Injectable for tests; must reject promptly when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  now?: () => Date;
}

const defaultSleep = (ms: number, signal: AbortSignal) => delay(ms, undefined, { signal });

export function createSimulateBuilder(opts: SimulateBuilderOptions = {}): Builder {
  const delayMs = Math.max(0, opts.delayMs ?? 1500);
  const sleep = opts.sleep ?? defaultSleep;
  const now = opts.now ?? (() => new Date());

  async function build(req: BuildRequest): Promise<BuiltArtifact> {
    const { analysis, kernelRelease } = req;
    checkAborted(req.signal);

    if (analysis.verdict === "requires-reboot") {
      const reasons = analysis.reasons.filter((r) => r.impact === "reboot");
      const listed = (reasons.length ? reasons : analysis.reasons).map((r) => r.message);
      const message = `cannot live-patch: ${listed.length ? listed.join("; ") : "the analysis says this patch requires a reboot"}`;
      req.log(message);
      throw new BuildFailure(message, "refused");
    }

    const moduleName = livepatchModuleName(req.patchId);
    const steps = [
      `applying patch to ${kernelRelease} source`,
      `building livepatch module ${moduleName} (${analysis.functions.length} function${analysis.functions.length === 1 ? "" : "s"})`,
      `linking ${moduleName}.ko`,
      `signing ${moduleName}.ko`,
    ];
    const stepMs = delayMs / steps.length;
    for (const step of steps) {
      req.log(step);
      if (stepMs > 0) {
        try {
          await sleep(stepMs, req.signal);
        } catch (err) {
          if (req.signal.aborted) throw aborted();
          throw err;
        }
      }
      checkAborted(req.signal);
    }

    const doc: SimulatedArtifact = {
      format: SIMULATED_FORMAT,
      moduleName,
      kernelRelease,
      patchId: req.patchId,
      replaces: analysis.functions.map((name) => ({ name, object: "vmlinux" })),
      builtAt: now().toISOString(),
    };
    req.log(`built ${moduleName} for ${kernelRelease}: replaces ${analysis.functions.join(", ") || "no functions"}`);
    // As the kbuild builder does, on the analysis's functions: built on the earlier patches of its files.
    const replaced = doc.replaces.map((r) => ({ object: r.object, function: r.name }));
    const includes = includesOf({ replaced, earlier: req.earlier ?? [] });
    for (const inc of includes) if (inc.functions.length > 0) req.log(`built on top of "${inc.title}": both change ${inc.functions.join(", ")}`);
    return {
      bytes: Buffer.from(`${JSON.stringify(doc, null, 2)}\n`, "utf8"),
      moduleName,
      fileName: `${moduleName}.json`,
      report: { source: `simulated ${kernelRelease}`, replaced: replaced.map((r) => ({ ...r, sympos: 0, file: analysis.files.find((f) => f.functions.some((fn) => fn.name === r.function))?.path ?? "" })), added: [], includes },
    };
  }

  return { name: "simulate", build };
}

function aborted(): BuildFailure {
  return new BuildFailure("build aborted (timed out or the console is shutting down)", "timeout");
}

function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw aborted();
}
