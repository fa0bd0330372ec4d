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
