// Reading `apt-cache show` output (deb822 stanzas) and naming the packages of a Debian kernel
// release. Pure: the commands are run in debian.ts.

export interface AptStanza {
  /** Field names as apt prints them (Package, Version, Filename, Size, SHA256, Depends, …). */
  fields: Map<string, string>;
}

export interface AptPackage {
  package: string;
  version: string;
  /** The source package and version, from `Source: linux (6.1.192-1)` or just `Source: linux`. */
  source?: string;
  architecture?: string;
  /** Archive path, e.g. pool/updates/main/l/linux/linux-source-6.1_6.1.192-1_all.deb. */
  filename?: string;
  size?: number;
  sha256?: string;
  depends: string[];
}

/**
 * Splits `apt-cache show` output into stanzas. Continuation lines (starting with a space or tab)
 * belong to the previous field; ` .` stands for an empty line in a long description.
 */
export function parseAptStanzas(text: string): AptStanza[] {
  const out: AptStanza[] = [];
  let fields = new Map<string, string>();
  let last: string | undefined;
  const flush = () => {
    if (fields.size > 0) out.push({ fields });
    fields = new Map();
    last = undefined;
  };
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "");
    if (line.trim() === "") {
      flush();
      continue;
    }
    if (/^[ \t]/.test(line)) {
      if (last !== undefined) {
        const cont = line.trim() === "." ? "" : line.slice(1);
        fields.set(last, `${fields.get(last) ?? ""}\n${cont}`);
      }
      continue;
    }
    const m = /^([!-9;-~][!-9;-~]*):[ \t]?(.*)$/.exec(line);
    if (!m) continue;
    last = m[1] as string;
    fields.set(last, (m[2] as string).trimEnd());
  }
  flush();
  return out;
}

/** The packages described by `apt-cache show` output, one per distinct (package, version). */
export function parseAptShow(text: string): AptPackage[] {
  const byKey = new Map<string, AptPackage>();
  for (const { fields } of parseAptStanzas(text)) {
    const pkg = fields.get("Package");
    const version = fields.get("Version");
    if (!pkg || !version) continue;
    const key = `${pkg}\0${version}`;
    const parsed = toPackage(pkg, version, fields);
    // dpkg's status stanza of an installed package repeats the archive's, without Filename.
    const known = byKey.get(key);
    if (!known || (!known.filename && parsed.filename)) byKey.set(key, parsed);
  }
  return [...byKey.values()];
}

function toPackage(pkg: string, version: string, fields: Map<string, string>): AptPackage {
  const source = fields.get("Source");
  const size = fields.get("Size");
  const depends = fields.get("Depends");
  return {
    package: pkg,
    version,
    ...(source ? { source: source.split(/\s+/)[0] as string } : {}),
    ...(fields.get("Architecture") ? { architecture: fields.get("Architecture") as string } : {}),
    ...(fields.get("Filename") ? { filename: fields.get("Filename") as string } : {}),
    ...(size && /^\d+$/.test(size) ? { size: Number(size) } : {}),
    ...(fields.get("SHA256") ? { sha256: fields.get("SHA256") as string } : {}),
    depends: depends ? depends.split(",").map((d) => d.trim()).filter(Boolean) : [],
  };
}

/** A Debian kernel release name: `6.1.0-55-amd64`, `6.1.0-55-cloud-amd64`, `6.1.0-55-rt-amd64`. */
export const DEBIAN_RELEASE_RE = /^(\d+)\.(\d+)\.\d+-\d+(?:-[a-z0-9]+)+$/;

/** Names we accept as a release at all (also for the per-release directory layout). */
export const RELEASE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._+~-]{0,127}$/;

export interface DebianReleasePackages {
  /** linux-image-R-unsigned: vmlinuz, modules, and the Debian version R was built from. */
  image: string;
  /** linux-headers-R: .config, Module.symvers, .kernelvariables. */
  headers: string;
  /** linux-image-R-dbg: System.map and the unstripped vmlinux. */
  dbg: string;
  /** linux-source-X.Y: the source tarball (taken at the image's version). */
  source: string;
}

export function debianReleasePackages(release: string): DebianReleasePackages | undefined {
  const m = DEBIAN_RELEASE_RE.exec(release);
  if (!m) return undefined;
  return {
    image: `linux-image-${release}-unsigned`,
    headers: `linux-headers-${release}`,
    dbg: `linux-image-${release}-dbg`,
    source: `linux-source-${m[1]}.${m[2]}`,
  };
}

/** The file name `apt-get download` gives a package (an epoch's colon is written %3a). */
export function debFileName(pkg: { package: string; version: string; architecture?: string }): string {
  return `${pkg.package}_${pkg.version.replace(/:/g, "%3a")}_${pkg.architecture ?? "all"}.deb`;
}
