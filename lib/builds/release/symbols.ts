import "server-only";
// Building a symbol index from an ELF file with binutils, storing and loading it.
import { existsSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { aborted, capture, type StepContext } from "./exec";
import { ReleasePreparationFailed } from "./errors";
import { mksysmapKeeps, parseSystemMap, type MapEntry } from "./kallsyms";
import { parseAranges, parseBuildId, parseCompileUnits, parseReadelfSections, parseReadelfSymbols, type CompileUnit } from "./readelf";
import { buildSymbolIndex, parseSymbolIndex, serializeSymbolIndex, type BuildIndexResult, type SymbolIndex } from "./symbol-index";

async function tool(ctx: StepContext, step: string, program: string, args: string[]): Promise<string> {
  if (ctx.signal.aborted) throw aborted(step);
  const r = await capture(program, args, { signal: ctx.signal });
  if (r.code !== 0) throw new ReleasePreparationFailed(ctx.release, step, `${step}: ${program} ${args.join(" ")} exited with status ${r.code}: ${r.stderr.trim().slice(-2000)}`);
  return r.stdout;
}

export async function elfBuildId(ctx: StepContext, file: string): Promise<string | undefined> {
  return parseBuildId(await tool(ctx, "build id", "readelf", ["-nW", file]));
}

export interface IndexElfOptions {
  ctx: StepContext;
  elf: string;
  /** "vmlinux" or the module's name. */
  object: string;
  /** vmlinux: R's System.map; when absent, `nm -n` through scripts/mksysmap's filter. */
  systemMap?: string;
  /** vmlinux: the kernel is ordered like kallsyms; modules by their own symbol table. */
  kind: "vmlinux" | "module";
  /** The release's source tree, to turn DWARF compile-unit names into tree-relative paths. */
  tree?: string;
}

/** Reads an ELF file's symbols (and, when it has DWARF, its compile units) and builds the index. */
export async function indexElf(o: IndexElfOptions): Promise<BuildIndexResult> {
  const { ctx, elf } = o;
  const [sectionsText, symbolsText, notes] = await Promise.all([
    tool(ctx, "symbol index", "readelf", ["-SW", elf]),
    tool(ctx, "symbol index", "readelf", ["-sW", elf]),
    tool(ctx, "symbol index", "readelf", ["-nW", elf]),
  ]);
  const sections = parseReadelfSections(sectionsText);
  const symbols = parseReadelfSymbols(symbolsText);
  if (!sections.some((s) => s.name === ".symtab") || symbols.length === 0) {
    throw new ReleasePreparationFailed(ctx.release, "symbol index", `${elf} has no symbol table (.symtab): it is stripped`);
  }
  let systemMap: MapEntry[] | undefined;
  if (o.kind === "vmlinux") {
    const text = o.systemMap ? await readFile(o.systemMap, "utf8") : (await tool(ctx, "symbol index", "nm", ["-n", elf])).split("\n").filter(mksysmapKeeps).join("\n");
    systemMap = parseSystemMap(text);
  }
  let dwarf: Parameters<typeof buildSymbolIndex>[0]["dwarf"];
  // Only in a linked kernel do addresses tell the compile unit (a module's are section offsets).
  if (o.kind === "vmlinux" && sections.some((s) => s.name === ".debug_info") && sections.some((s) => s.name === ".debug_aranges")) {
    const [info, aranges] = await Promise.all([
      tool(ctx, "symbol index", "readelf", ["--debug-dump=info", "--dwarf-depth=1", elf]),
      tool(ctx, "symbol index", "readelf", ["--debug-dump=aranges", elf]),
    ]);
    dwarf = { units: parseCompileUnits(info), ranges: parseAranges(aranges), relativize: treeRelativizer(o.tree) };
  }
  const buildId = parseBuildId(notes);
  return buildSymbolIndex({ object: o.object, ...(buildId ? { buildId } : {}), sections, symbols, ...(systemMap ? { systemMap } : {}), ...(dwarf ? { dwarf } : {}) });
}

/**
 * Compile-unit names are absolute (`/build/reproducible-path/linux-6.1.192/arch/x86/kernel/head_64.S`)
 * or relative to the source tree (`fs/ext4/mballoc.c`, Debian's prefix maps). With the tree at hand
 * a name is kept only if that file is in it; the prefix that made the first absolute name fit is
 * reused for the others.
 */
export function treeRelativizer(tree: string | undefined): (unit: CompileUnit) => string | undefined {
  const prefixes: string[] = [];
  const exists = (rel: string) => (tree ? existsSync(path.join(tree, rel)) : true);
  return (unit) => {
    const name = unit.name;
    if (!name) return undefined;
    // Relative names are relative to the tree already (Debian's -fdebug-prefix-map); generated files
    // (crypto/rsapubkey.asn1.c) are not in the source tree but are tree-relative all the same.
    if (!name.startsWith("/")) return path.posix.normalize(name);
    for (const p of prefixes) if (name.startsWith(p) && exists(name.slice(p.length))) return name.slice(p.length);
    if (!tree) return undefined;
    const parts = name.split("/");
    for (let i = 1; i < parts.length - 1; i++) {
      const rel = parts.slice(i).join("/");
      if (exists(rel)) {
        prefixes.push(`${parts.slice(0, i).join("/")}/`);
        return rel;
      }
    }
    return undefined;
  };
}

/** Writes the index atomically (temp file, rename). */
export async function writeSymbolIndex(file: string, result: BuildIndexResult): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, serializeSymbolIndex(result.data));
  await rename(tmp, file);
}

/** Loads a stored index (about 0.5 s for vmlinux's 127,000 symbols). */
export async function loadSymbolIndex(file: string): Promise<SymbolIndex> {
  return parseSymbolIndex(await readFile(file, "utf8"));
}
