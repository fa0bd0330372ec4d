import "server-only";
// The kbuild builder's view of a prepared release (lib/builds/release): its tree, its code, and
// its symbols as livepatch counts them (only what kallsyms lists; sympos as the kernel resolves it).
import type { KernelReleases, ReleaseTree } from "@/lib/builds/builders/kbuild";
import { prepareRelease, preparedReleases, type PreparedRelease, type SymbolIndex } from "@/lib/builds/release";
import type { KernelSymbol as LivepatchSymbol, SymbolTable } from "@/lib/livepatch/symbols";

export function kernelReleases(opts: { cacheDir: string; releasesDir?: string }): KernelReleases {
  return {
    async prepare({ release, signal, log }) {
      const r = await prepareRelease({ release, cacheDir: opts.cacheDir, ...(opts.releasesDir ? { releasesDir: opts.releasesDir } : {}), signal, log });
      return releaseTree(r);
    },
    prepared: () => preparedReleases(opts.cacheDir),
  };
}

export function releaseTree(r: PreparedRelease): ReleaseTree {
  let table: Promise<SymbolTable> | undefined;
  return {
    release: r.release,
    source: r.debianVersion ? `Debian ${r.debianVersion} (Linux ${r.sourceVersion})` : `Linux ${r.sourceVersion}`,
    tree: r.tree,
    makeArgs: r.makeArgs,
    vmlinuxImage: r.vmlinuxPath,
    modulePath: (name) => r.modulePath(name),
    vmlinuxSymbols: () => (table ??= r.symbols().then(symbolTableOf)),
  };
}

/** A symbol index as livepatch's placement reads it: kallsyms symbols only, FILE groups by id. */
export function symbolTableOf(index: SymbolIndex): SymbolTable {
  const groups = new Map<number, Set<string>>();
  for (const s of index.symbols) {
    if (s.bind !== "LOCAL" || s.file === undefined || s.sympos === undefined) continue;
    const g = groups.get(s.file) ?? new Set<string>();
    g.add(s.name);
    groups.set(s.file, g);
  }
  const convert = (s: ReturnType<SymbolIndex["byName"]>[number], position: number): LivepatchSymbol => ({
    name: s.name,
    addr: s.address,
    size: s.size,
    type: s.type,
    local: s.bind === "LOCAL",
    ...(s.file !== undefined ? { file: index.fileOf(s)?.name, fileGroup: s.file, path: index.fileOf(s)?.path } : {}),
    position,
  });
  return {
    object: index.object,
    lookup(name) {
      const listed = index.byName(name).filter((s) => s.sympos !== undefined);
      return listed.map((s) => convert(s, listed.length === 1 ? 1 : (s.sympos as number)));
    },
    groupLocals: (g) => groups.get(g) ?? new Set(),
  };
}
