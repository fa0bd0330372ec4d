import * as fs from "node:fs/promises";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { FileCredentialStore, loadOrCreateMachineId } from "../../../agent/state";
import { tempDirEach } from "../../helpers/temp-dir";

const cred = {
  hostId: "0b0f9a8e-3c1d-4e6f-9a2b-5c7d8e9f0a1b",
  credential: "c".repeat(43),
  server: "https://console.example",
};

let dir: string;
tempDirEach("splicer-state-", (d) => (dir = d));

describe("FileCredentialStore", () => {
  it("returns null when there is no credential", async () => {
    expect(await new FileCredentialStore(path.join(dir, "state")).load()).toBeNull();
  });

  it("saves with mode 0600 in a 0700 state dir and loads it back", async () => {
    const stateDir = path.join(dir, "state");
    const store = new FileCredentialStore(stateDir);
    await store.save(cred);
    expect((await fs.stat(store.file)).mode & 0o777).toBe(0o600);
    expect((await fs.stat(stateDir)).mode & 0o777).toBe(0o700);
    expect(await store.load()).toEqual(cred);
    // No temporary files left behind.
    expect(await fs.readdir(stateDir)).toEqual(["credential.json"]);
  });

  it("tightens an existing state dir that is too open", async () => {
    const stateDir = path.join(dir, "state");
    await fs.mkdir(stateDir, { mode: 0o755 });
    await fs.chmod(stateDir, 0o755);
    await new FileCredentialStore(stateDir).save(cred);
    expect((await fs.stat(stateDir)).mode & 0o777).toBe(0o700);
  });

  it("setAside() keeps the refused credential beside it (never deletes it); loadSetAside() returns the newest", async () => {
    const store = new FileCredentialStore(dir);
    expect(await store.loadSetAside()).toBeNull();
    await store.save(cred);
    const first = await store.setAside();
    expect(path.basename(first!)).toMatch(/^credential\.json\.refused-\d{4}-\d\d-\d\dT/);
    await expect(fs.access(store.file)).rejects.toThrow();
    expect(JSON.parse(await fs.readFile(first!, "utf8"))).toMatchObject({ hostId: cred.hostId, credential: cred.credential });
    expect((await fs.stat(first!)).mode & 0o777).toBe(0o600);
    await new Promise((r) => setTimeout(r, 5));
    const newer = { ...cred, credential: "n".repeat(43) };
    await store.save(newer);
    await store.setAside();
    expect((await store.loadSetAside())?.credential).toBe(newer.credential);
    expect((await fs.readdir(dir)).filter((n) => n.startsWith("credential.json.refused-"))).toHaveLength(2);
    await expect(store.setAside()).resolves.toBeNull();
  });

  it("refuses a corrupt credential file with a message saying what to do", async () => {
    await fs.writeFile(path.join(dir, "credential.json"), "{not json");
    await expect(new FileCredentialStore(dir).load()).rejects.toThrow(/enroll again/);
    await fs.writeFile(path.join(dir, "credential.json"), JSON.stringify({ hostId: "x" }));
    await expect(new FileCredentialStore(dir).load()).rejects.toThrow(/not a valid credential file/);
  });
});

describe("loadOrCreateMachineId", () => {
  it("generates a 32-hex id once and returns the same one afterwards", async () => {
    const a = await loadOrCreateMachineId(dir);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(await loadOrCreateMachineId(dir)).toBe(a);
    expect((await fs.stat(path.join(dir, "machine-id"))).mode & 0o777).toBe(0o600);
  });
});
