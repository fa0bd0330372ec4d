import "server-only";
// Preparing R's source tree once, so that one object (`make -C <tree> fs/ext4/mballoc.o`) or an
// external module (`make -C <tree> M=<dir> modules`) compiles as R's own build did: R's .config,
// `make olddefconfig` (which must not change it: a change means this machine's compiler or tools
// differ from R's), `make modules_prepare` with KERNELRELEASE=R (include/generated/utsrelease.h,
// hence the modules' vermagic), and R's Module.symvers (the CRCs modversions checks).
import { constants } from "node:fs";
import { access, copyFile, readFile } from "node:fs/promises";
import path from "node:path";
import { makefileVersion, parseKernelConfig } from "@/lib/builds/release/kernel-text";
import { ReleasePreparationFailed, ReleaseUnavailable } from "./errors";
import { runStep, seconds, type StepContext } from "./exec";
import { rawEnv } from "@/lib/config";

export interface PrepareTreeOptions {
  ctx: StepContext;
  tree: string;
  /** R's configuration (Debian: linux-headers-R's .config, which has CONFIG_BUILD_SALT; /boot/config-R does not). */
  config: string;
  symvers: string;
  /** Debian's .kernelvariables (KERNELRELEASE, CC): the tree's Makefile includes it. */
  kernelVariables?: string;
  jobs: number;
}

export interface PreparedTree {
  sourceVersion: string;
  makeArgs: string[];
  configChanges: string[];
  timings: { config: number; modulesPrepare: number };
}

/** The compiler R was built with, from CONFIG_CC_VERSION_TEXT ("gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0"). */
export function compilerOf(config: Map<string, string>): string | undefined {
  const text = config.get("CONFIG_CC_VERSION_TEXT")?.replace(/^"|"$/g, "");
  return text?.split(/\s+/)[0] || undefined;
}

/** What `make olddefconfig` changed: `CONFIG_X: before → after` (absent means "is not set"). */
export function configChanges(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const key of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const a = before.get(key);
    const b = after.get(key);
    if (a !== b) out.push(`${key}: ${a ?? "not set"} → ${b ?? "not set"}`);
  }
  return out;
}

/**
 * Changes that do not alter the code: the compiler's version text when its version number is the
 * same, and pahole's version alone (no option that depends on it changed).
 */
export function harmlessConfigChanges(changes: string[]): boolean {
  return changes.every((c) => /^CONFIG_(CC_VERSION_TEXT|PAHOLE_VERSION):/.test(c));
}

async function onPath(program: string): Promise<boolean> {
  for (const dir of (rawEnv().PATH ?? "/usr/bin:/bin").split(":")) {
    try {
      await access(path.join(dir, program), constants.X_OK);
      return true;
    } catch {
      // next
    }
  }
  return false;
}

export async function prepareTree(o: PrepareTreeOptions): Promise<PreparedTree> {
  const { ctx, tree } = o;
  const release = ctx.release;
  const makefile = await readFile(path.join(tree, "Makefile"), "utf8").catch(() => undefined);
  const sourceVersion = makefile ? makefileVersion(makefile) : undefined;
  if (!sourceVersion) throw new ReleaseUnavailable(release, "no-file", `no kernel Makefile with a version in ${tree}: not a kernel source tree`);

  const configText = await readFile(o.config, "utf8");
  const before = parseKernelConfig(configText);
  if (!before.has("CONFIG_LIVEPATCH")) throw new ReleaseUnavailable(release, "mismatch", `${release} is built without CONFIG_LIVEPATCH: the kernel cannot load a livepatch module`);
  const cc = compilerOf(before);
  if (!cc || !/^gcc(-\d+)?$/.test(cc)) {
    throw new ReleaseUnavailable(release, "toolchain", `${release} was built with ${cc ?? "an unknown compiler"} (CONFIG_CC_VERSION_TEXT); only kernels built with gcc are supported`);
  }
  if (!(await onPath(cc))) {
    throw new ReleaseUnavailable(release, "toolchain", `${release} was built with ${cc} (${before.get("CONFIG_CC_VERSION_TEXT")}); ${cc} is not installed here (Debian: apt-get install ${cc})`);
  }
  const makeArgs = [`KERNELRELEASE=${release}`, `CC=${cc}`];

  const t0 = Date.now();
  await copyFile(o.config, path.join(tree, ".config"));
  if (o.kernelVariables) await copyFile(o.kernelVariables, path.join(tree, ".kernelvariables"));
  await runStep(ctx, "make", ["olddefconfig", ...makeArgs], { cwd: tree, step: "make olddefconfig", timeoutMs: 10 * 60_000 });
  const after = parseKernelConfig(await readFile(path.join(tree, ".config"), "utf8"));
  const changes = configChanges(before, after);
  if (changes.length > 0 && !harmlessConfigChanges(changes)) {
    throw new ReleaseUnavailable(
      release,
      "toolchain",
      `this machine's tools do not build ${release} as it was built: make olddefconfig changed ${changes.length} option(s) of its configuration: ${changes.slice(0, 12).join("; ")}${changes.length > 12 ? "; …" : ""}. ` +
        `${release} was built with ${before.get("CONFIG_CC_VERSION_TEXT")}, binutils ${before.get("CONFIG_AS_VERSION")}, pahole ${before.get("CONFIG_PAHOLE_VERSION") ?? "none"} (Debian: gcc-12, binutils, dwarves)`,
    );
  }
  for (const c of changes) ctx.log(`config: ${c} (accepted: does not change the code)`);
  const config = Date.now() - t0;
  ctx.log(`configured the tree with ${release}'s .config in ${seconds(config)}${changes.length ? "" : " (make olddefconfig changed nothing)"}`);

  const t1 = Date.now();
  ctx.log(`make -j${o.jobs} modules_prepare ${makeArgs.join(" ")}`);
  await runStep(ctx, "make", [`-j${o.jobs}`, "modules_prepare", ...makeArgs], { cwd: tree, step: "make modules_prepare", timeoutMs: 30 * 60_000, streamOutput: true });
  await copyFile(o.symvers, path.join(tree, "Module.symvers"));
  const uts = await readFile(path.join(tree, "include/generated/utsrelease.h"), "utf8").catch(() => "");
  if (!uts.includes(`"${release}"`)) {
    throw new ReleasePreparationFailed(release, "make modules_prepare", `include/generated/utsrelease.h does not name ${release} after modules_prepare: ${uts.trim() || "(missing)"}`);
  }
  const modulesPrepare = Date.now() - t1;
  ctx.log(`prepared the tree in ${seconds(modulesPrepare)} (utsrelease.h: ${release}; Module.symvers copied)`);
  return { sourceVersion, makeArgs, configChanges: changes, timings: { config, modulesPrepare } };
}
