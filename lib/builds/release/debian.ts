import "server-only";
// A Debian release's packages: which version R was built from (apt-cache show), fetching them
// (apt-get download, no root needed, cached by exact version) and taking what is needed out of
// them (dpkg-deb --fsys-tarfile | tar), never installing anything.
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { isNotFound } from "@/lib/files";
import { debFileName, parseAptShow, type AptPackage } from "./apt";
import { ReleasePreparationFailed, ReleaseUnavailable } from "./errors";
import { capture, megabytes, runShell, runStep, seconds, type StepContext } from "./exec";

/** What `apt-cache show` says about each of `specs` (PKG or PKG=VERSION), in one run of apt-cache. */
export async function aptShow(ctx: StepContext, specs: string[]): Promise<AptPackage[]> {
  const r = await capture("apt-cache", ["show", ...specs], { signal: ctx.signal });
  // Exit status 100 with "No packages found" is the answer "none"; other failures are ours.
  if (r.code !== 0 && !/No packages found|Unable to locate|Can't select versions/i.test(r.stderr)) {
    throw new ReleasePreparationFailed(ctx.release, "apt-cache show", `apt-cache show ${specs.join(" ")} failed (status ${r.code}): ${r.stderr.trim()}`);
  }
  return parseAptShow(r.stdout);
}

/** Every downloadable version of a package apt knows, or only `version` when given. */
export async function aptVersions(ctx: StepContext, pkg: string, version?: string): Promise<AptPackage[]> {
  return (await aptShow(ctx, [version ? `${pkg}=${version}` : pkg])).filter((p) => p.package === pkg && p.filename && (!version || p.version === version));
}

/** Each package at exactly `version`, or ReleaseUnavailable naming the first one apt does not have. */
export async function requirePackages(ctx: StepContext, wanted: Array<{ pkg: string; why: string }>, version: string): Promise<AptPackage[]> {
  const found = await aptShow(ctx, wanted.map((w) => `${w.pkg}=${version}`));
  return wanted.map((w) => {
    const p = found.find((f) => f.package === w.pkg && f.version === version && f.filename);
    if (!p) {
      throw new ReleaseUnavailable(ctx.release, "no-package", `no Debian package ${w.pkg}=${version} in the apt sources (needed for ${w.why}); check /etc/apt/sources.list and run apt-get update`);
    }
    return p;
  });
}

export interface Fetched {
  pkg: AptPackage;
  file: string;
  /** False when the file was already in the cache. */
  downloaded: boolean;
}

/**
 * Downloads packages into `debDir`, one file per exact version, skipping those already there with
 * the size apt expects. Downloads go to a private directory first and are renamed into place, so a
 * killed download never leaves a file that looks complete.
 */
export async function fetchPackages(ctx: StepContext, debDir: string, pkgs: AptPackage[]): Promise<Fetched[]> {
  await mkdir(debDir, { recursive: true });
  const out: Fetched[] = [];
  const missing: AptPackage[] = [];
  for (const pkg of pkgs) {
    const file = path.join(debDir, debFileName(pkg));
    const size = await stat(file).then((s) => s.size, (err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
    if (size !== undefined && (pkg.size === undefined || size === pkg.size)) {
      ctx.log(`${pkg.package}=${pkg.version}: cached (${megabytes(size)}, ${file})`);
      out.push({ pkg, file, downloaded: false });
    } else missing.push(pkg);
  }
  if (missing.length === 0) return out;
  const tmp = path.join(debDir, `.download-${process.pid}-${randomBytes(4).toString("hex")}`);
  await mkdir(tmp, { recursive: true });
  try {
    const total = missing.reduce((n, p) => n + (p.size ?? 0), 0);
    ctx.log(`downloading ${missing.map((p) => `${p.package}=${p.version}${p.size ? ` (${megabytes(p.size)})` : ""}`).join(", ")}: ${megabytes(total)} with apt-get download`);
    const started = Date.now();
    await runStep(ctx, "apt-get", ["download", "-q", ...missing.map((p) => `${p.package}=${p.version}`)], { cwd: tmp, step: "apt-get download", timeoutMs: 60 * 60_000 });
    const ms = Date.now() - started;
    ctx.log(`downloaded ${megabytes(total)} in ${seconds(ms)}${ms > 0 ? ` (${(total / 1e6 / (ms / 1000)).toFixed(0)} MB/s)` : ""}`);
    const present = new Set(await readdir(tmp));
    for (const pkg of missing) {
      const name = debFileName(pkg);
      if (!present.has(name)) throw new ReleasePreparationFailed(ctx.release, "apt-get download", `apt-get download ${pkg.package}=${pkg.version} left no ${name}`);
      const file = path.join(debDir, name);
      const size = (await stat(path.join(tmp, name))).size;
      if (pkg.size !== undefined && size !== pkg.size) {
        throw new ReleasePreparationFailed(ctx.release, "apt-get download", `${name} has ${size} bytes, apt said ${pkg.size}`);
      }
      await rename(path.join(tmp, name), file);
      out.push({ pkg, file, downloaded: true });
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return out;
}

// A .deb's data archive on stdout: `ar` takes the member out, xz decompresses its blocks on all
// cores (dpkg-deb --fsys-tarfile uses one: 77 s instead of 13 s for the 850 MB dbg package). When
// tar stops early (--occurrence), the commands before it die of SIGPIPE (status 141): that is fine,
// tar's own status and the files it wrote are what count.
const DATA_TAR = `
member=$(ar t "$DEB" | grep -m1 '^data\\.tar') || { echo "no data.tar member in $DEB" >&2; exit 1; }
case "$member" in
  *.xz) dec=(xz -dc -T"$JOBS") ;;
  *.zst) dec=(zstd -dc) ;;
  *.gz) dec=(gzip -dc) ;;
  *.tar) dec=(cat) ;;
  *) echo "unsupported $member in $DEB" >&2; exit 1 ;;
esac
`;
const CHECK_PIPE = `
st=("\${PIPESTATUS[@]}")
last=\${st[\${#st[@]}-1]}
[ "$last" = 0 ] || exit "$last"
for s in "\${st[@]}"; do [ "$s" = 0 ] || [ "$s" = 141 ] || exit "$s"; done
exit 0
`;

/**
 * Extracts members of a .deb's data archive into `dir` (paths as in the package: ./usr/…).
 * `once`: the members are files, each listed once, and tar may stop reading when it has them all.
 */
export async function extractMembers(ctx: StepContext, deb: string, dir: string, members: string[], o: { step: string; jobs: number; once?: boolean }): Promise<void> {
  await mkdir(dir, { recursive: true });
  const script = `DEB="$1"; JOBS="$2"; DIR="$3"; ONCE="$4"; shift 4
${DATA_TAR}
ar p "$DEB" "$member" | "\${dec[@]}" | tar -x --no-same-owner -C "$DIR" \${ONCE:+--occurrence=1} "$@"
${CHECK_PIPE}`;
  await runShell(ctx, script, [deb, String(o.jobs), dir, o.once ? "1" : "", ...members], { cwd: dir, step: o.step, timeoutMs: 30 * 60_000 });
}

/**
 * Unpacks linux-source-X.Y's tarball (./usr/src/linux-source-X.Y.tar.xz inside the package) into
 * `tree` without writing the 140 MB tarball to disk.
 */
export async function extractSourceTree(ctx: StepContext, deb: string, sourcePackage: string, tree: string, jobs: number): Promise<void> {
  await mkdir(tree, { recursive: true });
  const script = `DEB="$1"; JOBS="$2"; TARBALL="$3"; TREE="$4"
${DATA_TAR}
ar p "$DEB" "$member" | "\${dec[@]}" | tar -xO --occurrence=1 "$TARBALL" | xz -dc -T"$JOBS" | tar -x --no-same-owner --strip-components=1 -C "$TREE"
${CHECK_PIPE}`;
  await runShell(ctx, script, [deb, String(jobs), `./usr/src/${sourcePackage}.tar.xz`, tree], { cwd: tree, step: "extract source", timeoutMs: 30 * 60_000 });
}
