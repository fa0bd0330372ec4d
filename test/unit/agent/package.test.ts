// The agent's Debian package, built with the real script (dpkg-shlibdeps, dpkg-deb, lintian) and
// taken apart with dpkg-deb: what it holds, and that its executable runs the agent with no
// Node.js on the PATH. (Installing it in a Debian guest with systemd is the e2e test's part.)
import { spawnSync } from "node:child_process";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageAgent, type PackageAgentResult } from "../../../scripts/package-agent";
import { enrollsAndHeartbeats } from "./agent-process";

const ROOT = path.resolve(import.meta.dirname, "../../..");
let pkg: PackageAgentResult;
let out: string;
let unpacked: string;
const dpkgDeb = (...args: string[]) => spawnSync("dpkg-deb", args, { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });

beforeAll(async () => {
  out = await fs.mkdtemp(path.join((await import("node:os")).tmpdir(), "splicer-deb-test-"));
  pkg = await packageAgent({ outDir: out, version: "9.9.9-test" });
  unpacked = path.join(out, "root");
  expect(dpkgDeb("-x", pkg.deb, unpacked).status).toBe(0);
}, 240_000);
afterAll(async () => {
  await fs.rm(out, { recursive: true, force: true });
});

describe("splicer-agent .deb", () => {
  it("is named and versioned for Debian, and lintian finds no error in it", () => {
    expect(path.basename(pkg.deb)).toBe("splicer-agent_9.9.9~test-1_amd64.deb");
    expect(pkg.lintian.filter((l) => l.startsWith("E: "))).toEqual([]);
  });

  it("declares the libraries the executable links against (dpkg-shlibdeps), a conffile and its maintainer scripts", () => {
    const field = (f: string) => dpkgDeb("-f", pkg.deb, f).stdout.trim();
    expect(field("Package")).toBe("splicer-agent");
    expect(field("Version")).toBe("9.9.9~test-1");
    expect(field("Architecture")).toBe("amd64");
    expect(field("Depends")).toMatch(/^libc6 \(>= [\d.]+\), .*libstdc\+\+6.*init-system-helpers/);
    const control = path.join(out, "control");
    expect(dpkgDeb("-e", pkg.deb, control).status).toBe(0);
    return (async () => {
      expect((await fs.readFile(path.join(control, "conffiles"), "utf8")).trim()).toBe("/etc/splicer/agent.env");
      for (const script of ["postinst", "prerm", "postrm"]) {
        expect((await fs.stat(path.join(control, script))).mode & 0o777).toBe(0o755);
        expect(spawnSync("sh", ["-n", path.join(control, script)]).status).toBe(0);
      }
      // On install both units are enabled; on purge the host's state goes.
      expect(await fs.readFile(path.join(control, "postinst"), "utf8")).toMatch(/for unit in splicer-agent\.service splicer-agent-reload\.service;[\s\S]*deb-systemd-helper enable "\$unit"/);
      expect(await fs.readFile(path.join(control, "postrm"), "utf8")).toContain("rm -rf /var/lib/splicer-agent");
    })();
  });

  it("holds the executable, the systemd units that start it (the agent, the early reload at boot) and a root-only config file, owned by root", () => {
    const listing = dpkgDeb("-c", pkg.deb).stdout;
    expect(listing).toMatch(/^-rwxr-xr-x root\/root .* \.\/usr\/bin\/splicer-agent$/m);
    expect(listing).toMatch(/^-rw-r--r-- root\/root .* \.\/lib\/systemd\/system\/splicer-agent\.service$/m);
    expect(listing).toMatch(/^-rw-r--r-- root\/root .* \.\/lib\/systemd\/system\/splicer-agent-reload\.service$/m);
    expect(listing).toMatch(/^-rw------- root\/root .* \.\/etc\/splicer\/agent\.env$/m);
    expect(listing).toMatch(/\.\/usr\/share\/doc\/splicer-agent\/copyright$/m);
    return (async () => {
      const unit = await fs.readFile(path.join(unpacked, "lib/systemd/system/splicer-agent.service"), "utf8");
      const served = await fs.readFile(path.join(ROOT, "agent/systemd/splicer-agent.service"), "utf8");
      expect(unit).toMatch(/^ExecStart=\/usr\/bin\/splicer-agent$/m);
      expect(unit).toMatch(/^EnvironmentFile=-\/etc\/splicer\/agent\.env$/m);
      // Otherwise the unit served for Node.js installs, line for line.
      const rest = (u: string) => u.split("\n").filter((l) => !/^(ExecStart|Environment=NODE_ENV)=?/.test(l));
      expect(rest(unit)).toEqual(rest(served));
      const reload = await fs.readFile(path.join(unpacked, "lib/systemd/system/splicer-agent-reload.service"), "utf8");
      expect(reload).toMatch(/^ExecStart=\/usr\/bin\/splicer-agent --reload-only$/m);
      expect(reload).toMatch(/^Before=network-pre\.target splicer-agent\.service$/m);
      expect(rest(reload)).toEqual(rest(await fs.readFile(path.join(ROOT, "agent/systemd/splicer-agent-reload.service"), "utf8")));
    })();
  });

  it("runs the agent with no Node.js on the PATH: --version, and a bad configuration exits 2", () => {
    const exe = path.join(unpacked, "usr/bin/splicer-agent");
    const noEnv = {} as NodeJS.ProcessEnv;
    const v = spawnSync(exe, ["--version"], { encoding: "utf8", env: noEnv });
    expect(v.stdout.trim()).toBe("9.9.9-test");
    expect(v.stderr).toBe("");
    const bad = spawnSync(exe, ["--server", "nope"], { encoding: "utf8", env: noEnv });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--server (SPLICER_SERVER)");
    // The early reload needs no console; with nothing kept it loads nothing and exits 0.
    const state = path.join(out, "reload-state");
    const reload = spawnSync(exe, ["--reload-only", "--state-dir", state, "--backend", "simulate"], { encoding: "utf8", env: noEnv });
    expect(reload.status, reload.stderr).toBe(0);
  });

  it("the packaged executable enrolls, reports the host's inventory, heartbeats and stops cleanly", async () => {
    await enrollsAndHeartbeats({ command: [path.join(unpacked, "usr/bin/splicer-agent")], env: {}, version: "9.9.9-test" });
  });
});
