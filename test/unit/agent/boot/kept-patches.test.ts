import * as fs from "node:fs/promises";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { FileKeptPatches } from "../../../../agent/boot/kept-patches";
import { Logger } from "../../../../agent/log";
import { tempDirEach } from "../../../helpers/temp-dir";

let dir: string;
tempDirEach("splicer-kept-", (d) => (dir = d));

const fields = (moduleName: string) => ({ artifactSha256: "ab".repeat(32), patchId: "5d0c9a4e-1111-4a2b-9c3d-000000000001", kernelRelease: "6.1.0-54-amd64", moduleName });

describe("FileKeptPatches", () => {
  it("keeps a module and its signed record owner-only, lists, reads and forgets them", async () => {
    const store = new FileKeptPatches({ stateDir: dir });
    await store.keep({ fields: fields("livepatch_aaaa"), signature: "c2ln", bytes: Buffer.from("ko bytes"), kernelVersion: "#1 SMP", bootId: "b1" });
    const [rec] = await store.list();
    expect(rec).toMatchObject({ ...fields("livepatch_aaaa"), signature: "c2ln", kernelVersion: "#1 SMP", bootId: "b1" });
    expect(Buffer.from((await store.bytes("livepatch_aaaa"))!).toString()).toBe("ko bytes");
    for (const f of ["livepatch_aaaa.ko", "livepatch_aaaa.json"]) expect((await fs.stat(path.join(dir, "kept", f))).mode & 0o777).toBe(0o600);

    await store.loadedIn("livepatch_aaaa", "b2");
    expect((await store.list())[0]?.bootId).toBe("b2");
    await store.forget("livepatch_aaaa");
    expect(await store.list()).toEqual([]);
    expect(await store.bytes("livepatch_aaaa")).toBeNull();
  });

  it("leaves out (and logs) a record it cannot read, and refuses a module name that is not one", async () => {
    const lines: string[] = [];
    const store = new FileKeptPatches({ stateDir: dir, log: new Logger("warn", {}, (l) => lines.push(l)) });
    await store.keep({ fields: fields("livepatch_good"), signature: "c2ln", bytes: Buffer.from("x"), kernelVersion: "", bootId: "b1" });
    await fs.writeFile(path.join(dir, "kept", "livepatch_bad.json"), "{ not json");
    expect((await store.list()).map((r) => r.moduleName)).toEqual(["livepatch_good"]);
    expect(lines.join("\n")).toContain("livepatch_bad.json");
    await expect(store.keep({ fields: fields("../../etc/passwd"), signature: "c2ln", bytes: Buffer.from("x"), kernelVersion: "", bootId: "b1" })).rejects.toThrow();
  });

  it("reloads by default; keeps the console's setting and the last boot's report", async () => {
    const store = new FileKeptPatches({ stateDir: dir });
    expect(await store.reloadEnabled()).toBe(true);
    await store.setReloadEnabled(false);
    expect(await new FileKeptPatches({ stateDir: dir }).reloadEnabled()).toBe(false);
    expect(await store.lastReport()).toBeNull();
    const report = { bootId: "b2", at: "2026-12-02T08:00:00.000Z", patches: [{ moduleName: "livepatch_good", patchId: "p", kernelRelease: "r", outcome: "loaded" as const }] };
    await store.saveReport(report);
    expect(await new FileKeptPatches({ stateDir: dir }).lastReport()).toEqual(report);
  });
});
