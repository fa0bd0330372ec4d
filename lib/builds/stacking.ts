// Livepatches that replace the same function stack in the kernel (each function's klp_ops keeps a
// stack of replacements): the patch enabled last is the code that runs. A later patch of a
// function an earlier patch also changes must therefore carry the earlier fix, or loading it
// silently undoes that fix. Splicer builds such a patch on top of the earlier one, as Ksplice built
// each update on those before it: its pre-image is the release's source with the earlier patch
// applied, so its code of the shared function has both fixes; it loads only where the earlier
// patch is live, and the earlier one is not taken out while it is. A patch that does not share a
// function with another stays independent of it. Pure: the builders decide with `includesOf`, the
// rollout planner and the job relay with `stackingOf` (lib/builds/stacks.ts loads the builds).
import { livepatchModuleName } from "@/lib/livepatch/module-name";

/** One function a build replaces, in its klp_object (vmlinux or a module's name). */
export interface ReplacedFunction {
  object: string;
  function: string;
}

/** An earlier patch whose fix is in a build's pre-image, and the functions both replace. */
export interface IncludedPatch {
  patchId: string;
  title: string;
  /** Shared with the build (display names, `object:function` outside vmlinux). Non-empty: the build needs it live. */
  functions: string[];
}

/** A patch built for the release: what it replaces and which earlier patches it was built on. */
export interface StackedBuild {
  patchId: string;
  replaced: readonly ReplacedFunction[];
  includes: readonly IncludedPatch[];
}

/** `cmdline_proc_show`, or `ext4:ext4_mb_load_buddy_gfp` for a module's function. */
export function functionName(f: ReplacedFunction): string {
  return f.object === "vmlinux" ? f.function : `${f.object}:${f.function}`;
}

/** The functions both replace, sorted. */
export function sharedFunctions(a: readonly ReplacedFunction[], b: readonly ReplacedFunction[]): string[] {
  const inA = new Set(a.map(functionName));
  return [...new Set(b.map(functionName).filter((n) => inA.has(n)))].sort();
}

/**
 * Which of the earlier patches whose diffs were applied before this one (in that order) the
 * build includes, and for which it needs them live: those sharing a function it replaces.
 */
export function includesOf(o: { replaced: readonly ReplacedFunction[]; earlier: readonly { patchId: string; title: string; replaced: readonly ReplacedFunction[] }[] }): IncludedPatch[] {
  return o.earlier.map((e) => ({ patchId: e.patchId, title: e.title, functions: sharedFunctions(e.replaced, o.replaced) }));
}

/** Patch ids of the patches a build needs live before it loads. */
export function requiredPatches(b: Pick<StackedBuild, "includes">): string[] {
  return b.includes.filter((i) => i.functions.length > 0).map((i) => i.patchId);
}

export interface Stacking {
  /** Patches to be live before it loads (it was built on them). */
  requires: string[];
  /** Patches that must not be live when it loads: they change a function it replaces and it does not carry their fix. */
  conflicts: string[];
  /** Patches built on it: it must not be taken out while one of them is live. */
  dependents: string[];
}

/** `patchId`'s build among a release's builds; one that reports nothing (or none yet) replaces nothing and was built on nothing. */
export function buildOf(builds: readonly StackedBuild[], patchId: string): StackedBuild {
  return builds.find((b) => b.patchId === patchId) ?? { patchId, replaced: [], includes: [] };
}

/** What loading, and taking out, `build` needs of the other patches built for the same release (patch ids). */
export function stackingOf(build: StackedBuild, others: readonly StackedBuild[]): Stacking {
  const requires = requiredPatches(build);
  const required = new Set(requires);
  const conflicts: string[] = [];
  const dependents: string[] = [];
  for (const o of others) {
    if (o.patchId === build.patchId) continue;
    if (!required.has(o.patchId) && sharedFunctions(o.replaced, build.replaced).length > 0) conflicts.push(o.patchId);
    if (requiredPatches(o).includes(build.patchId)) dependents.push(o.patchId);
  }
  return { requires, conflicts: conflicts.sort(), dependents: dependents.sort() };
}

/** The job's stacking lists (module names): an apply's `requires` and `blockedBy`, a revert's `blockedBy`. */
export function jobStacking(kind: "apply" | "revert", s: Stacking): { requires: string[]; blockedBy: string[] } {
  const names = (ids: string[]) => ids.map(livepatchModuleName);
  return kind === "apply" ? { requires: names(s.requires), blockedBy: names(s.conflicts) } : { requires: [], blockedBy: names(s.dependents) };
}

/** What the reasons below name a patch by: `patch "title" (livepatch_…)`. */
export type PatchNamer = (patchId: string) => string;

/**
 * Why a host whose live (enabled) livepatches are `live` cannot load `build` now, or null: the
 * reason a rollout plan skips it with. The agent checks the same rule when the job runs.
 */
export function applyBlocker(o: { build: StackedBuild; others: readonly StackedBuild[]; live: ReadonlySet<string>; name: PatchNamer }): string | null {
  const s = stackingOf(o.build, o.others);
  const missing = s.requires.filter((id) => !o.live.has(livepatchModuleName(id)));
  if (missing.length > 0) {
    const shared = missing.map((id) => o.build.includes.find((i) => i.patchId === id)?.functions.join(", ")).join("; ");
    return `needs ${missing.map(o.name).join(" and ")} live first: this patch was built on top of ${missing.length === 1 ? "it" : "them"} (both change ${shared})`;
  }
  const undone = s.conflicts.filter((id) => o.live.has(livepatchModuleName(id)));
  if (undone.length > 0) {
    const fix = (id: string) => `${o.name(id)}'s fix of ${sharedFunctions(buildOf(o.others, id).replaced, o.build.replaced).join(", ")}`;
    return `would undo ${undone.map(fix).join(" and ")}: live there, and this patch's build does not carry it (the later-staged of the two is built again on top of the other once no host of the release runs it)`;
  }
  return null;
}

/** Why `patchId` cannot be taken out of a host whose live livepatches are `live`, or null: a patch built on it is live there. */
export function revertBlocker(o: { patchId: string; others: readonly StackedBuild[]; live: ReadonlySet<string>; name: PatchNamer }): string | null {
  const live = stackingOf(buildOf(o.others, o.patchId), o.others).dependents.filter((id) => o.live.has(livepatchModuleName(id)));
  if (live.length === 0) return null;
  return `kept: ${live.map(o.name).join(" and ")}, built on top of this patch, ${live.length === 1 ? "is" : "are"} live there; roll ${live.length === 1 ? "it" : "them"} back first`;
}
