import "server-only";
import { z } from "zod";
import type { Builder } from "@/lib/builds/types";
import path from "node:path";
import os from "node:os";
import { createCommandBuilder } from "./command";
import { createKbuildBuilder, type KernelReleases } from "./kbuild";
import { createSimulateBuilder } from "./simulate";
import { kernelReleases } from "@/lib/builds/kbuild/releases";
import { rawEnv } from "@/lib/config";

export { createCommandBuilder, type CommandBuilderOptions } from "./command";
export { createKbuildBuilder, type KbuildBuilderOptions, type KernelReleases, type ReleaseTree } from "./kbuild";
export { createSimulateBuilder, SIMULATED_FORMAT, type SimulatedArtifact, type SimulateBuilderOptions } from "./simulate";
export { livepatchModuleName } from "@/lib/livepatch/module-name";

// Which builder the console uses, from its environment:
//
//   SPLICER_BUILDER                  "simulate" (default), "command" or "kbuild"
//   SPLICER_BUILD_COMMAND            command: a JSON argv array (["kpatch-build"]) or one executable path
//   SPLICER_KERNEL_SOURCE_TEMPLATE   command: kernel source dir per release, containing {release}
//   SPLICER_KERNEL_CACHE_DIR         kbuild, optional: prepared releases (default <data dir>/kernels);
//                                    on Debian each release is fetched there with apt
//   SPLICER_KERNEL_RELEASES_DIR      kbuild, optional: per-release directories for other
//                                    distributions (README "Real kernels")
//   SPLICER_DEBUGINFO_TEMPLATE       command, optional: vmlinux with debug info, containing {release}
//   SPLICER_BUILD_TIMEOUT_SEC        command, kbuild: kill a build after this long (default 1800)
//   SPLICER_SIMULATE_BUILD_MS        simulate: how long a simulated build takes (default 1500)

export type BuilderConfig =
  | { builder: "simulate"; simulateBuildMs: number }
  | {
      builder: "command";
      command: string[];
      kernelSourceTemplate: string;
      debugInfoTemplate?: string;
      timeoutMs: number;
      maxLogBytes?: number;
    }
  | {
      builder: "kbuild";
      cacheDir?: string;
      releasesDir?: string;
      timeoutMs: number;
    };

const blankToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const optionalString = z.preprocess(blankToUndefined, z.string().trim().optional());

const CommandArgv = z.preprocess(
  blankToUndefined,
  z
    .string()
    .trim()
    .transform((raw, ctx) => {
      if (!raw.startsWith("[")) return [raw];
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "SPLICER_BUILD_COMMAND starts with [ but is not valid JSON" });
        return z.NEVER;
      }
    })
    .pipe(z.array(z.string().min(1, "empty argument in SPLICER_BUILD_COMMAND")).min(1, "SPLICER_BUILD_COMMAND is an empty array"))
    .optional(),
);

const template = (name: string) =>
  z.string().refine((t) => t.includes("{release}"), `${name} must contain {release}, e.g. /usr/src/linux-source-{release}`);

export const BuilderEnvSchema = z
  .object({
    SPLICER_BUILDER: z.preprocess(blankToUndefined, z.enum(["simulate", "command", "kbuild"]).default("simulate")),
    SPLICER_BUILD_COMMAND: CommandArgv,
    // {release} is required for the command builder (checked below); kbuild may use one tarball for all.
    SPLICER_KERNEL_SOURCE_TEMPLATE: optionalString,
    SPLICER_KERNEL_CACHE_DIR: optionalString,
    SPLICER_KERNEL_RELEASES_DIR: optionalString,
    SPLICER_DEBUGINFO_TEMPLATE: optionalString.pipe(template("SPLICER_DEBUGINFO_TEMPLATE").optional()),
    SPLICER_BUILD_TIMEOUT_SEC: z.preprocess(blankToUndefined, z.coerce.number().positive().max(24 * 3600).default(1800)),
    SPLICER_SIMULATE_BUILD_MS: z.preprocess(blankToUndefined, z.coerce.number().int().min(0).max(600_000).default(1500)),
  })
  .superRefine((env, ctx) => {
    if (env.SPLICER_BUILDER !== "command") return;
    if (env.SPLICER_KERNEL_SOURCE_TEMPLATE && !env.SPLICER_KERNEL_SOURCE_TEMPLATE.includes("{release}")) {
      ctx.addIssue({
        code: "custom",
        path: ["SPLICER_KERNEL_SOURCE_TEMPLATE"],
        message: "SPLICER_KERNEL_SOURCE_TEMPLATE must contain {release}, e.g. /usr/src/linux-source-{release}",
      });
    }
    if (!env.SPLICER_BUILD_COMMAND) {
      ctx.addIssue({ code: "custom", path: ["SPLICER_BUILD_COMMAND"], message: 'SPLICER_BUILDER=command needs SPLICER_BUILD_COMMAND (e.g. ["kpatch-build"])' });
    }
    if (!env.SPLICER_KERNEL_SOURCE_TEMPLATE) {
      ctx.addIssue({
        code: "custom",
        path: ["SPLICER_KERNEL_SOURCE_TEMPLATE"],
        message: "SPLICER_BUILDER=command needs SPLICER_KERNEL_SOURCE_TEMPLATE (e.g. /usr/src/linux-source-{release})",
      });
    }
  });

/** Reads the builder configuration; throws an error naming every bad setting. */
export function loadBuilderConfig(env: Readonly<Record<string, string | undefined>> = rawEnv()): BuilderConfig {
  const parsed = BuilderEnvSchema.safeParse(env);
  if (!parsed.success) throw new Error(`bad builder configuration:\n${z.prettifyError(parsed.error)}`);
  const e = parsed.data;
  if (e.SPLICER_BUILDER === "simulate") return { builder: "simulate", simulateBuildMs: e.SPLICER_SIMULATE_BUILD_MS };
  if (e.SPLICER_BUILDER === "kbuild") {
    return {
      builder: "kbuild",
      ...(e.SPLICER_KERNEL_CACHE_DIR ? { cacheDir: e.SPLICER_KERNEL_CACHE_DIR } : {}),
      ...(e.SPLICER_KERNEL_RELEASES_DIR ? { releasesDir: e.SPLICER_KERNEL_RELEASES_DIR } : {}),
      timeoutMs: Math.round(e.SPLICER_BUILD_TIMEOUT_SEC * 1000),
    };
  }
  return {
    builder: "command",
    command: e.SPLICER_BUILD_COMMAND!,
    kernelSourceTemplate: e.SPLICER_KERNEL_SOURCE_TEMPLATE!,
    ...(e.SPLICER_DEBUGINFO_TEMPLATE ? { debugInfoTemplate: e.SPLICER_DEBUGINFO_TEMPLATE } : {}),
    timeoutMs: Math.round(e.SPLICER_BUILD_TIMEOUT_SEC * 1000),
  };
}

/** `dataDir` is where the kbuild builder keeps prepared kernel releases (unless configured). */
export function createBuilder(config: BuilderConfig, opts: { dataDir?: string; releases?: KernelReleases } = {}): Builder {
  switch (config.builder) {
    case "simulate":
      return createSimulateBuilder({ delayMs: config.simulateBuildMs });
    case "command":
      return createCommandBuilder(config);
    case "kbuild":
      return createKbuildBuilder({
        releases:
          opts.releases ??
          kernelReleases({ cacheDir: config.cacheDir ?? path.join(opts.dataDir ?? path.join(os.tmpdir(), "splicer"), "kernels"), releasesDir: config.releasesDir }),
        timeoutMs: config.timeoutMs,
      });
  }
}
