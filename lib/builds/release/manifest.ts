// The record of a prepared release, written last and atomically: a release directory without a
// valid manifest is a preparation that did not finish, and is redone from scratch.
import { rename, writeFile } from "node:fs/promises";
import { z } from "zod";
import { readFileIfExists } from "@/lib/files";

export const MANIFEST_FORMAT = "splicer-release/1";

const PackageRef = z.object({ package: z.string(), version: z.string(), sha256: z.string().optional(), bytes: z.number().optional() });

export const ManifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  release: z.string(),
  origin: z.enum(["debian", "directory"]),
  /** Debian: the version of the linux source package R was built from, e.g. 6.1.192-1. */
  debianVersion: z.string().optional(),
  /** VERSION.PATCHLEVEL.SUBLEVEL of the tree's Makefile, e.g. 6.1.192. */
  sourceVersion: z.string(),
  packages: z.array(PackageRef).optional(),
  /** GNU build id shared by R's vmlinuz and the symbols the index was built from. */
  buildId: z.string().optional(),
  /** Paths relative to the release directory. */
  files: z.object({
    tree: z.string(),
    config: z.string(),
    symvers: z.string(),
    vmlinux: z.string(),
    vmlinuz: z.string().optional(),
    systemMap: z.string().optional(),
    symbols: z.string(),
    modules: z.string().optional(),
  }),
  /** Variables every `make -C <tree>` for R takes (KERNELRELEASE, CC). */
  makeArgs: z.array(z.string()),
  /** Options `make olddefconfig` changed with this machine's tools (only harmless ones are accepted). */
  configChanges: z.array(z.string()),
  symbolStats: z.record(z.string(), z.number()),
  /** Milliseconds per step of the preparation that made this directory. */
  timings: z.record(z.string(), z.number()),
  diskBytes: z.number(),
  preparedAt: z.string(),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/** The fields every way of preparing a release fills the same: from the prepared tree and the symbol index. */
export function preparedFields(o: {
  prepared: { sourceVersion: string; makeArgs: string[]; configChanges: string[] };
  symbolStats: Record<string, number>;
  timings: Record<string, number>;
}): Pick<Manifest, "format" | "sourceVersion" | "makeArgs" | "configChanges" | "symbolStats" | "timings" | "diskBytes" | "preparedAt"> {
  return {
    format: MANIFEST_FORMAT,
    sourceVersion: o.prepared.sourceVersion,
    makeArgs: o.prepared.makeArgs,
    configChanges: o.prepared.configChanges,
    symbolStats: o.symbolStats,
    timings: o.timings,
    // Measured once the release is in place (prepareRelease).
    diskBytes: 0,
    preparedAt: new Date().toISOString(),
  };
}

/** The manifest if there is a valid one; undefined for none or one of another format. */
export async function readManifest(file: string): Promise<Manifest | undefined> {
  const text = await readFileIfExists(file, "utf8");
  if (text === null) return undefined;
  try {
    const parsed = ManifestSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export async function writeManifest(file: string, manifest: Manifest): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(ManifestSchema.parse(manifest), null, 2)}\n`);
  await rename(tmp, file);
}
