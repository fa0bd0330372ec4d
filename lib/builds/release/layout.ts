import "server-only";
// Other distributions: R's pieces in a directory of their own, SPLICER_KERNEL_RELEASES_DIR/<R>/:
//
//   source/ or source.tar[.xz|.gz|.bz2|.zst]   R's exact kernel source (a tarball has one top directory)
//   config                                     R's .config
//   Module.symvers                             R's exported symbols and their CRCs
//   vmlinux                                    R's vmlinux with its symbol table (.symtab: FILE symbols);
//                                              with DWARF, local symbols also get their source paths
//   System.map                                 optional: R's System.map (else `nm -n vmlinux` is used)
//   vmlinuz                                    optional: R's boot image; then its code is checked to be
//                                              that vmlinux (same build id) and taken from it
//   modules/                                   optional: R's /lib/modules/R (kernel/**/*.ko[.xz|.zst|.gz],
//                                              modules.builtin), for patches to modules
//
// Nothing there is modified: the source is copied into the cache and prepared there.
import { existsSync, statSync } from "node:fs";
import { copyFile, mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import { ReleaseUnavailable } from "./errors";
import { runPipeline, runStep, seconds, type StepContext } from "./exec";
import { preparedFields, type Manifest } from "./manifest";
import { elfBuildId, indexElf, writeSymbolIndex } from "./symbols";
import { prepareTree } from "./tree";

export interface DirectoryOptions {
  ctx: StepContext;
  /** <cacheDir>/<R>, empty. */
  dir: string;
  /** SPLICER_KERNEL_RELEASES_DIR/<R>. */
  source: string;
  jobs: number;
}

const TARBALL = /^source\.tar(\.(xz|gz|bz2|zst))?$/;

export async function prepareFromDirectory(o: DirectoryOptions): Promise<Manifest> {
  const { ctx, dir, source } = o;
  const release = ctx.release;
  const timings: Record<string, number> = {};
  const need = (name: string, what: string) => {
    const p = path.join(source, name);
    if (!existsSync(p)) throw new ReleaseUnavailable(release, "no-file", `${source} has no ${name} (${what})`);
    return p;
  };
  const config = need("config", "R's .config");
  const symvers = need("Module.symvers", "R's exported symbols");
  const vmlinux = need("vmlinux", "R's vmlinux with its symbol table");
  const systemMap = existsSync(path.join(source, "System.map")) ? path.join(source, "System.map") : undefined;
  const vmlinuz = existsSync(path.join(source, "vmlinuz")) ? path.join(source, "vmlinuz") : undefined;
  const modules = existsSync(path.join(source, "modules")) ? path.join(source, "modules") : undefined;
  const entries = await readdir(source);
  const tarball = entries.find((e) => TARBALL.test(e));
  const sourceDir = path.join(source, "source");
  if (!tarball && !(existsSync(sourceDir) && statSync(sourceDir).isDirectory())) {
    throw new ReleaseUnavailable(release, "no-file", `${source} has neither source/ nor source.tar.* (R's kernel source)`);
  }
  ctx.log(`${release}: preparing from ${source}`);

  const tree = path.join(dir, "tree");
  await mkdir(tree, { recursive: true });
  let t = Date.now();
  if (tarball) {
    await runStep(ctx, "tar", ["-x", "--no-same-owner", "--strip-components=1", "-C", tree, "-f", path.join(source, tarball)], { cwd: tree, step: "extract source", timeoutMs: 30 * 60_000 });
  } else {
    await runPipeline(ctx, `cp -a "$1/." "$2/"`, [sourceDir, tree], { cwd: tree, step: "copy source", timeoutMs: 30 * 60_000 });
  }
  timings.extractSource = Date.now() - t;
  ctx.log(`source ${tarball ?? "source/"} → ${tree} in ${seconds(timings.extractSource)}`);

  t = Date.now();
  const index = await indexElf({ ctx, elf: vmlinux, object: "vmlinux", ...(systemMap ? { systemMap } : {}), kind: "vmlinux", tree });
  await writeSymbolIndex(path.join(dir, "symbols.json"), index);
  timings.index = Date.now() - t;
  ctx.log(`symbol index: ${index.stats.symbols} symbols, ${index.stats.files} FILE groups (${index.stats.filesWithPath} with their source path) in ${seconds(timings.index)}`);

  let codePath = vmlinux;
  if (vmlinuz) {
    t = Date.now();
    await runPipeline(ctx, `"$1/scripts/extract-vmlinux" "$2" > "$3"`, [tree, vmlinuz, path.join(dir, "vmlinux")], { cwd: tree, step: "extract-vmlinux" });
    codePath = path.join(dir, "vmlinux");
    timings.vmlinux = Date.now() - t;
    const codeId = await elfBuildId(ctx, codePath);
    if (codeId !== index.data.buildId) {
      throw new ReleaseUnavailable(release, "mismatch", `${vmlinux} (build id ${index.data.buildId ?? "none"}) is not the kernel in ${vmlinuz} (build id ${codeId ?? "none"})`);
    }
  }
  if (systemMap) await copyFile(systemMap, path.join(dir, "System.map"));

  const prepared = await prepareTree({ ctx, tree, config, symvers, jobs: o.jobs });
  timings.config = prepared.timings.config;
  timings.modulesPrepare = prepared.timings.modulesPrepare;

  return {
    ...preparedFields({ prepared, symbolStats: index.stats, timings }),
    release,
    origin: "directory",
    ...(index.data.buildId ? { buildId: index.data.buildId } : {}),
    files: {
      tree: "tree",
      config: "tree/.config",
      symvers: "tree/Module.symvers",
      // Without vmlinuz the code is read from the given vmlinux itself (not copied).
      vmlinux: codePath,
      ...(vmlinuz ? { vmlinuz } : {}),
      ...(systemMap ? { systemMap: "System.map" } : {}),
      symbols: "symbols.json",
      ...(modules ? { modules } : {}),
    },
  };
}
