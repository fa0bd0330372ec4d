import * as fs from "node:fs/promises";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ensurePrivateDir, publishExclusive, writeFileAtomic, type DurableFs } from "../../../agent/durable-file";
import { tempDirEach } from "../../helpers/temp-dir";

let dir: string;
tempDirEach("splicer-durable-", (d) => (dir = d));

describe("writeFileAtomic", () => {
  it("leaves the old content intact and no temp file when the final rename fails", async () => {
    const file = path.join(dir, "credential.json");
    await writeFileAtomic(file, "old\n");
    const failingFs: DurableFs = {
      ...fs,
      rename: async () => {
        throw Object.assign(new Error("EIO: simulated crash before rename"), { code: "EIO" });
      },
    };
    await expect(writeFileAtomic(file, "new\n", 0o600, failingFs)).rejects.toThrow(/simulated crash/);
    expect(await fs.readFile(file, "utf8")).toBe("old\n");
    expect(await fs.readdir(dir)).toEqual(["credential.json"]);
  });

  it("replaces the file through a rename, so the inode changes (never written in place)", async () => {
    const file = path.join(dir, "f");
    await writeFileAtomic(file, "one");
    const before = (await fs.stat(file)).ino;
    await writeFileAtomic(file, "two");
    expect(await fs.readFile(file, "utf8")).toBe("two");
    expect((await fs.stat(file)).ino).not.toBe(before);
  });
});

describe("publishExclusive", () => {
  it("creates the file once: a second writer loses and the first content stays, with no temp file left", async () => {
    const file = path.join(dir, "key");
    expect(await publishExclusive(file, "first\n", 0o600)).toBe(true);
    expect(await publishExclusive(file, "second\n", 0o600)).toBe(false);
    expect(await fs.readFile(file, "utf8")).toBe("first\n");
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect(await fs.readdir(dir)).toEqual(["key"]);
  });
});

describe("ensurePrivateDir", () => {
  it("tightens an existing directory to 0700", async () => {
    const d = path.join(dir, "keys");
    await fs.mkdir(d, { mode: 0o755 });
    await ensurePrivateDir(d);
    expect((await fs.stat(d)).mode & 0o777).toBe(0o700);
  });
});
