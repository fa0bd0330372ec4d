// Builds the agent's Debian package: agent/dist/splicer-agent_<version>_amd64.deb, holding a
// self-contained executable (this machine's Node.js with the agent's bundle injected as a single
// executable application, so hosts need no Node.js), the systemd unit, /etc/splicer/agent.env and
// maintainer scripts (agent/debian/). Made with Debian's own tools: dpkg-shlibdeps for the
// dependencies, dpkg-deb for the archive; lintian checks it.
// `npm run package:agent`, or import { packageAgent }.
import { execFile } from "node:child_process";
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { buildAgent } from "./build-agent";

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DEBIAN = path.join(ROOT, "agent/debian");
/** The systemd units shipped, each with the arguments of its ExecStart= (agent/systemd/). */
const UNITS: [string, string][] = [
  ["splicer-agent.service", ""],
  ["splicer-agent-reload.service", " --reload-only"],
];
// Node's fixed marker for where a single executable application's blob goes (Node's docs, "Single executable applications").
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

export interface PackageAgentResult {
  deb: string;
  version: string;
  bytes: number;
  ms: number;
  /** lintian's findings (E: errors, W: warnings), one a line; empty when clean. */
  lintian: string[];
}

/** The package version for an agent version: Debian versions may not hold `-` outside the revision. */
export const debianVersion = (agentVersion: string): string => `${agentVersion.replace(/-/g, "~")}-1`;

export const debFileName = (agentVersion: string): string => `splicer-agent_${debianVersion(agentVersion)}_amd64.deb`;

async function sh(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<string> {
  const { stdout } = await run(cmd, args, { cwd: opts.cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: "C" } });
  return stdout;
}

/** This machine's Node.js with the bundle injected: runs the agent on a host without Node.js. */
async function buildExecutable(bundle: string, out: string, work: string): Promise<void> {
  const blob = path.join(work, "sea.blob");
  const config = path.join(work, "sea-config.json");
  await writeFile(config, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true }));
  await sh(process.execPath, ["--experimental-sea-config", config], { cwd: work });
  await copyFile(process.execPath, out);
  await chmod(out, 0o755);
  // Debug information is most of Node's size and of no use on a host; strip before injecting
  // (stripping after would drop the injected blob's note).
  await sh("strip", ["--strip-unneeded", out]);
  const postject = path.join(ROOT, "node_modules/postject/dist/cli.js");
  await sh(process.execPath, [postject, out, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE]);
}

export async function packageAgent(opts: { outDir?: string; lintian?: boolean; /** the agent version (package.json's by default) */ version?: string } = {}): Promise<PackageAgentResult> {
  const started = performance.now();
  const outDir = path.resolve(opts.outDir ?? path.join(ROOT, "agent/dist"));
  const work = await mkdtemp(path.join(os.tmpdir(), "splicer-deb-"));
  try {
    const bundle = path.join(work, "splicer-agent.js");
    const built = await buildAgent({ outfile: bundle, version: opts.version });
    const version = debianVersion(built.version);
    const tree = path.join(work, "root");

    const exe = path.join(tree, "usr/bin/splicer-agent");
    await mkdir(path.dirname(exe), { recursive: true });
    await buildExecutable(bundle, exe, work);

    // The units of Node.js installs (the agent's, and the early reload at boot), started from the executable instead.
    await mkdir(path.join(tree, "lib/systemd/system"), { recursive: true });
    for (const [name, args] of UNITS) {
      const unitSource = await readFile(path.join(ROOT, "agent/systemd", name), "utf8");
      const exec = `ExecStart=/usr/bin/splicer-agent${args}`;
      const unit = unitSource.replace(/^ExecStart=.*$/m, exec).replace(/^Environment=NODE_ENV=production\n/m, "");
      if (!unit.split("\n").includes(exec)) throw new Error(`${name} has no ExecStart= line to point at the executable`);
      await writeFile(path.join(tree, "lib/systemd/system", name), unit, { mode: 0o644 });
    }

    // Holds the enrollment token until the first start: readable by root only.
    await mkdir(path.join(tree, "etc/splicer"), { recursive: true, mode: 0o755 });
    await copyFile(path.join(DEBIAN, "agent.env"), path.join(tree, "etc/splicer/agent.env"));
    await chmod(path.join(tree, "etc/splicer/agent.env"), 0o600);

    const doc = path.join(tree, "usr/share/doc/splicer-agent");
    await mkdir(doc, { recursive: true });
    await copyFile(path.join(DEBIAN, "copyright"), path.join(doc, "copyright"));
    const date = new Date().toUTCString().replace(/GMT$/, "+0000");
    const changelog = `splicer-agent (${version}) unstable; urgency=medium\n\n  * Splicer agent ${built.version}.\n\n -- Splicer developers <splicer@example.com>  ${date}\n`;
    await writeFile(path.join(doc, "changelog.Debian.gz"), gzipSync(changelog, { level: 9 }));
    await mkdir(path.join(tree, "usr/share/lintian/overrides"), { recursive: true });
    await copyFile(path.join(DEBIAN, "lintian-overrides"), path.join(tree, "usr/share/lintian/overrides/splicer-agent"));

    // Dependencies as Debian computes them: the shared libraries the executable links against.
    const shlibsDir = path.join(work, "shlibs");
    await mkdir(path.join(shlibsDir, "debian"), { recursive: true });
    await writeFile(path.join(shlibsDir, "debian/control"), "Source: splicer\n\nPackage: splicer-agent\nArchitecture: amd64\n");
    const shlibs = await sh("dpkg-shlibdeps", ["-O", "--ignore-missing-info", exe], { cwd: shlibsDir });
    const depends = /shlibs:Depends=(.*)/.exec(shlibs)?.[1]?.trim();
    if (!depends) throw new Error(`dpkg-shlibdeps found no dependencies: ${shlibs}`);

    const control = path.join(tree, "DEBIAN");
    await mkdir(control, { recursive: true });
    const installedKiB = Math.ceil(Number((await sh("du", ["-sk", "--exclude=DEBIAN", tree])).split(/\s/)[0]));
    const controlText = (await readFile(path.join(DEBIAN, "control"), "utf8"))
      .replace("@VERSION@", version)
      .replace("@INSTALLED_SIZE@", String(installedKiB))
      .replace("@DEPENDS@", `${depends}, init-system-helpers (>= 1.52)`);
    await writeFile(path.join(control, "control"), controlText);
    await writeFile(path.join(control, "conffiles"), "/etc/splicer/agent.env\n");
    for (const script of ["postinst", "prerm", "postrm"]) {
      await copyFile(path.join(DEBIAN, script), path.join(control, script));
      await chmod(path.join(control, script), 0o755);
    }
    await sh("sh", ["-c", `cd "${tree}" && find . -path ./DEBIAN -prune -o -type f -print0 | sort -z | xargs -0 md5sum | sed 's#  \\./#  #' > DEBIAN/md5sums`]);

    await mkdir(outDir, { recursive: true });
    const deb = path.join(outDir, debFileName(built.version));
    await rm(deb, { force: true });
    // gzip, not xz: as small within a few percent for this content, several times faster to build.
    await sh("dpkg-deb", ["--root-owner-group", "-Zgzip", "--build", tree, deb]);

    let lintian: string[] = [];
    if (opts.lintian !== false) {
      const out = await run("lintian", ["--no-tag-display-limit", deb], { maxBuffer: 16 * 1024 * 1024 }).then(
        (r) => r.stdout,
        (err: { stdout?: string }) => err.stdout ?? "",
      );
      lintian = out.split("\n").filter((l) => /^[EW]: /.test(l));
    }
    return { deb, version, bytes: (await stat(deb)).size, ms: Math.round(performance.now() - started), lintian };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const r = await packageAgent();
  for (const l of r.lintian) console.log(`lintian ${l}`);
  console.log(`built ${path.relative(ROOT, r.deb)} (${(r.bytes / 1e6).toFixed(1)} MB, ${r.version}) in ${(r.ms / 1000).toFixed(1)} s`);
  if (r.lintian.some((l) => l.startsWith("E: "))) {
    console.error("lintian found errors");
    process.exit(1);
  }
}

