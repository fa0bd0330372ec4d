// The coverage corpus and its run, shared by `npm run bench:coverage` (all of it) and the e2e
// sample in `npm test`: every .c file a Debian stable update changes, as its own diff (git-style
// paths and function context, as a person would stage it), staged through the API for one
// release, built by the kbuild builder, classified by the build's outcome and, when loaded,
// rolled out to a guest on that release and checked in its running kernel.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { Build, BuildOutcome, BuildReport, PatchDetail, RolloutDetail } from "../../lib/api/schemas";
import { aptVersions, extractSourceTree, fetchPackages } from "../../lib/builds/release/debian";

/** One request to the console's API: the status and the parsed body. */
export type Call = (method: "GET" | "POST", path: string, body?: unknown) => Promise<{ status: number; body: unknown }>;
export type Log = (message: string) => void;

export interface CorpusDiff {
  /** The changed file, e.g. fs/ext4/mballoc.c. */
  file: string;
  text: string;
}

/**
 * Debian's linux-source-6.1 at `version`, its .c files only, unpacked once into
 * `<cacheDir>/src/<version>` (the package is kept in `<cacheDir>/debs`).
 */
export async function sourceTree(o: { version: string; cacheDir: string; log: Log }): Promise<string> {
  const cacheDir = path.resolve(o.cacheDir);
  const tree = path.join(cacheDir, "src", o.version);
  const done = path.join(tree, ".complete");
  if (fs.existsSync(done)) return tree;
  const ctx = { release: `linux-source ${o.version}`, signal: new AbortController().signal, log: o.log };
  const [pkg] = await aptVersions(ctx, "linux-source-6.1", o.version);
  if (!pkg) throw new Error(`linux-source-6.1=${o.version} is not in the package lists (apt-cache madison linux-source-6.1)`);
  const [deb] = await fetchPackages(ctx, path.join(cacheDir, "debs"), [pkg]);
  fs.rmSync(tree, { recursive: true, force: true });
  await extractSourceTree(ctx, deb!.file, "linux-source-6.1", tree, 2);
  fs.writeFileSync(done, `${o.version}\n`);
  return tree;
}

/** Each changed (or added, or removed) .c file of the two trees as its own `diff -upN`. */
export function* treeDiffs(oldTree: string, newTree: string): Generator<CorpusDiff> {
  const list = (root: string) => new Set(execFileSync("find", [".", "-name", "*.c", "-type", "f"], { cwd: root, maxBuffer: 1 << 28, encoding: "utf8" }).split("\n").filter(Boolean).map((p) => p.slice(2)));
  const before = list(oldTree);
  const after = list(newTree);
  for (const file of [...new Set([...before, ...after])].sort()) {
    const a = before.has(file) ? path.join(oldTree, file) : "/dev/null";
    const b = after.has(file) ? path.join(newTree, file) : "/dev/null";
    if (a !== "/dev/null" && b !== "/dev/null" && fs.readFileSync(a).equals(fs.readFileSync(b))) continue;
    const labels = ["--label", before.has(file) ? `a/${file}` : "/dev/null", "--label", after.has(file) ? `b/${file}` : "/dev/null"];
    try {
      execFileSync("diff", ["-upN", ...labels, a, b], { maxBuffer: 1 << 28 });
    } catch (err) {
      const e = err as { status?: number; stdout?: Buffer };
      if (e.status !== 1 || !e.stdout) throw err; // 1: the files differ
      yield { file, text: e.stdout.toString("utf8") };
    }
  }
}

/**
 * The order a sample is taken in: by a hash of the path, so that a sample of N is spread over the
 * tree (not the first N directories alphabetically) and the same on every run.
 */
export function sampleOrder(diffs: CorpusDiff[]): CorpusDiff[] {
  const key = (d: CorpusDiff) => createHash("sha256").update(d.file).digest("hex");
  return [...diffs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** What happened to one fix. `not_staged`: the API refused the diff (its message is the reason). */
export type Outcome = BuildOutcome | "not_staged";

export interface FixResult {
  file: string;
  outcome: Outcome;
  reason: string | null;
  patchId?: string;
  build?: Build;
  buildSec?: number;
  /** With a guest: the rollout's result and what the guest's kernel showed. */
  live?: { ok: boolean; detail: string };
}

/** Outcomes that say the fix has nothing to be built from in R: they leave the denominator. */
export const OUT_OF_SCOPE: ReadonlySet<Outcome> = new Set<Outcome>(["not_built", "does_not_compile", "already_fixed", "no_change", "not_staged"]);

const finished = (b: Build) => b.status === "succeeded" || b.status === "failed";

async function ok<T>(call: Call, method: "GET" | "POST", p: string, body?: unknown): Promise<T> {
  const r = await call(method, p, body);
  if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as T;
}

/** Stages one fix for `release` and waits for its build. */
export async function buildFix(o: { call: Call; release: string; diff: CorpusDiff; title: string; timeoutMs?: number }): Promise<FixResult> {
  const staged = await o.call("POST", "/api/v1/patches", { title: o.title, severity: "medium", diff: o.diff.text, kernelReleases: [o.release] });
  if (staged.status >= 300) {
    const msg = (staged.body as { error?: { message?: string } })?.error?.message ?? JSON.stringify(staged.body);
    if (staged.status >= 500) throw new Error(`staging ${o.diff.file}: ${staged.status} ${msg}`);
    return { file: o.diff.file, outcome: "not_staged", reason: msg };
  }
  const patch = staged.body as PatchDetail;
  const deadline = Date.now() + (o.timeoutMs ?? 1_200_000);
  for (;;) {
    const { items } = await ok<{ items: Build[] }>(o.call, "GET", `/api/v1/patches/${patch.id}/builds`);
    const b = items.find((x) => x.kernelRelease === o.release);
    if (!b) throw new Error(`${o.diff.file}: staging queued no build for ${o.release}`);
    if (finished(b)) {
      const buildSec = b.startedAt && b.finishedAt ? (Date.parse(b.finishedAt) - Date.parse(b.startedAt)) / 1000 : undefined;
      const outcome: Outcome = b.status === "succeeded" ? "built" : (b.outcome ?? "failed");
      return { file: o.diff.file, outcome, reason: b.status === "succeeded" ? null : b.error, patchId: patch.id, build: b, ...(buildSec !== undefined ? { buildSec } : {}) };
    }
    if (Date.now() > deadline) throw new Error(`${o.diff.file}: the build for ${o.release} did not finish in time (${b.status})`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * Builds the fixes, `concurrency` at a time, in the order given. With `inScope`, stops once that
 * many fixes are in scope (built in R and compile alone), for a sample that has that many to load.
 */
export async function buildAll(o: { call: Call; release: string; diffs: CorpusDiff[]; concurrency: number; inScope?: number; log: Log }): Promise<FixResult[]> {
  const results: FixResult[] = [];
  let next = 0;
  let counted = 0;
  const enough = () => o.inScope !== undefined && counted >= o.inScope;
  const worker = async () => {
    while (next < o.diffs.length && !enough()) {
      const diff = o.diffs[next++]!;
      const r = await buildFix({ call: o.call, release: o.release, diff, title: `${diff.file} (coverage)` });
      if (!OUT_OF_SCOPE.has(r.outcome)) counted++;
      results.push(r);
      o.log(`${results.length}/${o.inScope !== undefined ? `${counted} in scope of ${o.inScope}` : o.diffs.length} ${r.outcome.padEnd(16)} ${r.file}${r.buildSec !== undefined ? ` (${r.buildSec.toFixed(1)} s)` : ""}${r.reason ? `: ${r.reason.split("\n")[0]!.slice(0, 200)}` : ""}`);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  // Stopped early: the fixes still in flight finished above; keep the corpus order.
  const order = new Map(o.diffs.map((d, i) => [d.file, i]));
  return results.sort((a, b) => order.get(a.file)! - order.get(b.file)!);
}

/** A guest on the release, as the run sees it: a shell in it and its host id in the console. */
export interface LoadTarget {
  hostId: string;
  groupId: string;
  exec(cmd: string): Promise<string>;
}

/** The modules the built fixes patch: the guest carries them (`extraModules`) so each is loaded before its fix. */
export function patchedModules(results: FixResult[]): string[] {
  const objects = results.filter((r) => r.outcome === "built").flatMap((r) => r.build?.report?.replaced.map((f) => f.object) ?? []);
  return [...new Set(objects.filter((x) => x !== "vmlinux"))].sort();
}

/**
 * Rolls each built fix out to the guest, one after the other, and checks its kernel: the rollout
 * says succeeded only if the patch is enabled with no transition pending, every function it
 * replaces in vmlinux is redirected (the livepatch module defines it and vmlinux's object is
 * patched), and the guest still answers on the same boot.
 */
export async function loadAll(o: { call: Call; release: string; target: LoadTarget; results: FixResult[]; log: Log }): Promise<void> {
  const bootId = await o.target.exec("cat /proc/sys/kernel/random/boot_id");
  // A rollout plans by the kernel the host reported: wait for its first inventory.
  for (let tries = 0; ; tries++) {
    const h = await ok<{ kernelRelease: string }>(o.call, "GET", `/api/v1/hosts/${o.target.hostId}`);
    if (h.kernelRelease === o.release) break;
    if (tries > 240) throw new Error(`the guest never reported kernel ${o.release} (it says ${JSON.stringify(h.kernelRelease)})`);
    await new Promise((res) => setTimeout(res, 500));
  }
  for (const r of o.results.filter((x) => x.outcome === "built")) {
    // The module a fix patches is loaded first (the guest's `load-module`), so the rollout patches
    // it in place and the check below sees it patched; one the guest cannot load (xen_netback
    // outside Xen) is checked as registered only, and said so.
    const loaded: string[] = [];
    const unloadable: string[] = [];
    for (const m of [...new Set((r.build?.report?.replaced ?? []).map((f) => f.object).filter((x) => x !== "vmlinux"))]) {
      const out = await o.target.exec(`load-module ${m} 2>&1 && echo LOADED`);
      if (out.endsWith("LOADED")) loaded.push(m);
      else unloadable.push(`${m} (${out.split("\n").filter(Boolean).at(-1) ?? "failed"})`);
    }
    const started = await ok<{ id: string }>(o.call, "POST", "/api/v1/rollouts", { patchId: r.patchId, groupId: o.target.groupId, strategy: { canary: 0, waves: "100%", failureBudget: 1 } });
    let d: RolloutDetail;
    for (;;) {
      d = await ok<RolloutDetail>(o.call, "GET", `/api/v1/rollouts/${started.id}`);
      if (["completed", "aborted", "paused"].includes(d.status)) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    const host = d.hosts.find((h) => h.hostId === o.target.hostId);
    const module = r.build!.moduleName!;
    const seen = await kernelView(o.target, module, r.build!.report, { loaded, unloadable });
    const succeeded = host?.state === "succeeded";
    r.live = { ok: succeeded && seen.ok, detail: succeeded ? seen.detail : `rollout ${d.status}, host ${host?.state}: ${host?.error ?? ""}` };
    o.log(`${r.live.ok ? "live  " : "NOT LIVE"} ${r.file} (${module}): ${r.live.detail}`);
    const now = await o.target.exec("cat /proc/sys/kernel/random/boot_id");
    if (now !== bootId) throw new Error(`the guest rebooted after ${r.file} (boot id ${bootId} → ${now})`);
  }
}

/** What the guest's kernel shows of a livepatch module that should be live. */
export async function kernelView(
  target: LoadTarget,
  module: string,
  report: BuildReport | null | undefined,
  modules: { loaded: string[]; unloadable: string[] } = { loaded: [], unloadable: [] },
): Promise<{ ok: boolean; detail: string }> {
  const state = await target.exec(`cat /sys/kernel/livepatch/${module}/enabled /sys/kernel/livepatch/${module}/transition 2>&1 | tr '\\n' ' '`);
  if (state.trim() !== "1 0") return { ok: false, detail: `enabled/transition: ${state.trim()}` };
  const replaced = report?.replaced ?? [];
  if (replaced.length === 0) return { ok: false, detail: "the build reports no replaced function" };
  const problems: string[] = [];
  const inVmlinux = replaced.filter((f) => f.object === "vmlinux");
  if (inVmlinux.length) {
    const patched = await target.exec(`cat /sys/kernel/livepatch/${module}/vmlinux/patched 2>&1`);
    if (patched.trim() !== "1") problems.push(`vmlinux patched=${patched.trim()}`);
    // The module's own copy of each replaced function is in kallsyms: the kernel resolved it.
    const defined = new Set((await target.exec(`grep '\\[${module}\\]' /proc/kallsyms | awk '{print $3}'`)).split("\n"));
    for (const f of inVmlinux) if (!defined.has(f.function)) problems.push(`${f.function} is not in ${module}`);
  }
  for (const f of replaced) {
    const dir = `/sys/kernel/livepatch/${module}/${f.object}/${f.function},${f.sympos === 0 ? 1 : f.sympos}`;
    if ((await target.exec(`test -d ${dir} && echo yes || echo no`)).trim() !== "yes") problems.push(`no ${dir}`);
  }
  // A loaded module's object is patched now: the kernel resolved its livepatch relocations.
  for (const m of modules.loaded) {
    const patched = await target.exec(`cat /sys/kernel/livepatch/${module}/${m}/patched 2>&1`);
    if (patched.trim() !== "1") problems.push(`${m} is loaded but its object is not patched (patched=${patched.trim()})`);
  }
  const notes = [
    ...(modules.loaded.length ? [`loaded and patched: ${modules.loaded.join(", ")}`] : []),
    ...(modules.unloadable.length ? [`cannot load in this guest, patched when it loads: ${modules.unloadable.join(", ")}`] : []),
  ];
  const detail = `${replaced.length} function(s) in ${[...new Set(replaced.map((f) => f.object))].join(", ")}${notes.length ? ` (${notes.join("; ")})` : ""}`;
  return problems.length ? { ok: false, detail: problems.join("; ") } : { ok: true, detail };
}

export interface CoverageSummary {
  fixes: number;
  byOutcome: Record<string, number>;
  /** Built in R and compile alone: what the target is measured against. */
  inScope: number;
  built: number;
  builtPct: number;
  loaded?: number;
  live?: number;
  livePct?: number;
  /** Rolled out as succeeded while the kernel did not show the patch: must be 0. */
  falseSuccess?: number;
  buildSec?: { median: number; p95: number; max: number };
  refusals: Record<string, number>;
}

export function summarise(results: FixResult[]): CoverageSummary {
  const byOutcome: Record<string, number> = {};
  for (const r of results) byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + 1;
  const inScope = results.filter((r) => !OUT_OF_SCOPE.has(r.outcome));
  const built = inScope.filter((r) => r.outcome === "built");
  const pct = (n: number, d: number) => (d === 0 ? 0 : Math.round((1000 * n) / d) / 10);
  const secs = built.map((r) => r.buildSec).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  const at = (p: number) => +(secs[Math.min(secs.length - 1, Math.floor((p / 100) * secs.length))] ?? 0).toFixed(1);
  const refusals: Record<string, number> = {};
  for (const r of inScope.filter((x) => x.outcome !== "built")) {
    const key = (r.reason ?? r.outcome).split("\n")[0]!.replace(/\b[\w.]+\.(c|o|ko)\b/g, "<file>").replace(/\b0x[0-9a-f]+\b|\b\d+\b/g, "N").slice(0, 120);
    refusals[key] = (refusals[key] ?? 0) + 1;
  }
  const loaded = results.filter((r) => r.live);
  const out: CoverageSummary = {
    fixes: results.length,
    byOutcome,
    inScope: inScope.length,
    built: built.length,
    builtPct: pct(built.length, inScope.length),
    ...(secs.length ? { buildSec: { median: at(50), p95: at(95), max: +(secs[secs.length - 1] ?? 0).toFixed(1) } } : {}),
    refusals,
  };
  if (loaded.length) {
    const live = loaded.filter((r) => r.live!.ok).length;
    out.loaded = loaded.length;
    out.live = live;
    out.livePct = pct(live, inScope.length);
    out.falseSuccess = loaded.filter((r) => !r.live!.ok && !r.live!.detail.startsWith("rollout ")).length;
  }
  return out;
}
