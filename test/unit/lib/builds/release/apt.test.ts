import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { debFileName, debianReleasePackages, parseAptShow, parseAptStanzas } from "@/lib/builds/release/apt";
import { upstreamVersion } from "@/lib/builds/release";

// Fixtures are real `apt-cache show` output captured on Debian 12 (bookworm + bookworm-security).
const fixture = (name: string) => fs.readFileSync(path.join(import.meta.dirname, "fixtures", name), "utf8");

describe("parseAptShow", () => {
  it("reads the image package of 6.1.0-55-amd64: the Debian version it was built from and where to get it", () => {
    const [image, ...rest] = parseAptShow(fixture("apt-show-image-55.txt"));
    expect(rest).toEqual([]);
    expect(image).toMatchObject({
      package: "linux-image-6.1.0-55-amd64-unsigned",
      version: "6.1.192-1",
      source: "linux",
      architecture: "amd64",
      filename: "pool/updates/main/l/linux/linux-image-6.1.0-55-amd64-unsigned_6.1.192-1_amd64.deb",
      size: 70563388,
      sha256: "2351149e943c261304d508515d363fbbe20585be959dc8abce196d1e1c23f6a1",
    });
    expect(image!.depends).toEqual(["kmod", "linux-base (>= 4.3~)", "initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool"]);
  });

  it("lists every version of linux-source-6.1 apt knows, newest first as apt prints them", () => {
    const versions = parseAptShow(fixture("apt-show-linux-source.txt")).map((p) => p.version);
    expect(versions).toEqual(["6.1.192-3", "6.1.192-2", "6.1.192-1", "6.1.190-1", "6.1.187-1", "6.1.176-1", "6.1.170-3"]);
  });

  it("reads the headers package's dependencies (the -common package it needs is not taken: the source tree has it)", () => {
    const [headers] = parseAptShow(fixture("apt-show-headers-56.txt"));
    expect(headers).toMatchObject({ package: "linux-headers-6.1.0-56-amd64", version: "6.1.192-2" });
    expect(headers!.depends[0]).toBe("linux-headers-6.1.0-56-common (= 6.1.192-2)");
  });

  it.each([
    ["empty output (apt-cache show PKG=VERSION for a version apt does not have)", "", []],
    ["a stanza without Version", "Package: x\n\n", []],
    [
      "dpkg's status stanza of an installed package and the archive's, same version: the one with Filename wins",
      "Package: a\nVersion: 1\nStatus: install ok installed\n\nPackage: a\nVersion: 1\nFilename: pool/a_1_all.deb\nSize: 10\n",
      [{ package: "a", version: "1", filename: "pool/a_1_all.deb", size: 10 }],
    ],
  ])("%s", (_what, text, expected) => {
    expect(parseAptShow(text)).toMatchObject(expected);
  });

  it("joins continuation lines and reads ' .' as an empty line", () => {
    const [s] = parseAptStanzas("Package: a\nDescription: short\n long line\n .\n after\nVersion: 2\n");
    expect(s!.fields.get("Description")).toBe("short\nlong line\n\nafter");
    expect(s!.fields.get("Version")).toBe("2");
  });
});

describe("Debian release names", () => {
  it.each([
    ["6.1.0-55-amd64", { image: "linux-image-6.1.0-55-amd64-unsigned", headers: "linux-headers-6.1.0-55-amd64", dbg: "linux-image-6.1.0-55-amd64-dbg", source: "linux-source-6.1" }],
    ["6.1.0-55-cloud-amd64", { image: "linux-image-6.1.0-55-cloud-amd64-unsigned", headers: "linux-headers-6.1.0-55-cloud-amd64", dbg: "linux-image-6.1.0-55-cloud-amd64-dbg", source: "linux-source-6.1" }],
    ["6.12.6-1-rt-amd64", { image: "linux-image-6.12.6-1-rt-amd64-unsigned", source: "linux-source-6.12" }],
    ["5.14.0-427.el9.x86_64", undefined],
    ["6.1.0", undefined],
    ["../6.1.0-55-amd64", undefined],
  ])("%s", (release, expected) => {
    const got = debianReleasePackages(release);
    if (expected === undefined) expect(got).toBeUndefined();
    else expect(got).toMatchObject(expected);
  });

  it.each([
    [{ package: "linux-source-6.1", version: "6.1.192-1", architecture: "all" }, "linux-source-6.1_6.1.192-1_all.deb"],
    [{ package: "x", version: "2:1.0-3", architecture: "amd64" }, "x_2%3a1.0-3_amd64.deb"],
  ])("apt-get download names %o %s", (pkg, name) => {
    expect(debFileName(pkg)).toBe(name);
  });

  it.each([
    ["6.1.192-1", "6.1.192"],
    ["6.1.170-3", "6.1.170"],
    ["1:6.1.192-1+deb12u1", "6.1.192"],
  ])("upstream version of %s is %s", (v, up) => {
    expect(upstreamVersion(v)).toBe(up);
  });
});
