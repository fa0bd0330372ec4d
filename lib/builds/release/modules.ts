import "server-only";
// R's modules by name: /lib/modules/R/kernel/**/<name>.ko as shipped (Debian ships them
// uncompressed: CONFIG_MODULE_COMPRESS_NONE). Other distributions' compressed modules
// (.ko.xz, .ko.zst, .ko.gz) are decompressed on first use into the release's cache directory.
import { mkdir, readdir, rename, stat } from "node:fs/promises";
import path from "node:path";
import { readFileIfExists } from "@/lib/files";
import { runPipeline, type StepContext } from "./exec";

/** The kernel's module name for a file name: without .ko[.xz|.zst|.gz], dashes as underscores. */
export function moduleNameOf(fileName: string): string | undefined {
  const m = /^(.+)\.ko(\.(xz|zst|gz))?$/.exec(fileName);
  return m ? (m[1] as string).replace(/-/g, "_") : undefined;
}

/** Names listed in modules.builtin (`kernel/fs/ext4/ext4.ko` lines): built into vmlinux. */
export function parseModulesBuiltin(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split("\n")) {
    const name = moduleNameOf(path.posix.basename(line.trim()));
    if (name) out.add(name);
  }
  return out;
}

export interface ModuleTable {
  /** module name → path of its file as shipped (maybe compressed). */
  files: Map<string, string>;
  builtin: Set<string>;
}

export async function readModuleTable(modulesDir: string): Promise<ModuleTable> {
  const files = new Map<string, string>();
  const entries = await readdir(path.join(modulesDir, "kernel"), { recursive: true, withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile()) continue;
    const name = moduleNameOf(e.name);
    if (name) files.set(name, path.join(e.parentPath, e.name));
  }
  const builtin = parseModulesBuiltin((await readFileIfExists(path.join(modulesDir, "modules.builtin"), "utf8")) ?? "");
  return { files, builtin };
}

/** Path of an uncompressed .ko for a module file, decompressing into `unpackDir` when needed. */
export async function uncompressedModule(ctx: StepContext, file: string, name: string, unpackDir: string): Promise<string> {
  const kind = /\.ko\.(xz|zst|gz)$/.exec(file)?.[1];
  if (!kind) return file;
  const target = path.join(unpackDir, `${name}.ko`);
  if (await stat(target).then(() => true, () => false)) return target;
  await mkdir(unpackDir, { recursive: true });
  const tmp = `${target}.tmp-${process.pid}`;
  const tool = kind === "xz" ? "xz" : kind === "zst" ? "zstd" : "gzip";
  await runPipeline(ctx, `"$1" -dc "$2" > "$3"`, [tool, file, tmp], { cwd: unpackDir, step: `decompress ${name}.ko` });
  await rename(tmp, target);
  return target;
}
