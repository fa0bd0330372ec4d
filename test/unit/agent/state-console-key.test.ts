import { generateKeyPairSync } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { pinConsoleKey } from "../../../agent/artifact";
import { CREDENTIAL_FILE, FileCredentialStore } from "../../../agent/state";
import { tempDirEach } from "../../helpers/temp-dir";

const pem = () => generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }) as string;
const base = { hostId: "0b4d2c1e-7a5f-4c3e-9d8b-2f6a1e0c9b7d", credential: "spl_agent_0123456789abcdef0123456789abcdef", server: "https://console.example" };

let dir: string;
tempDirEach("splicer-state-key-", (d) => (dir = d));

describe("credential store: pinned console key", () => {
  it("loads a credential file written before key pinning (no consolePublicKey)", async () => {
    await fs.writeFile(path.join(dir, CREDENTIAL_FILE), JSON.stringify({ ...base, enrolledAt: "2025-01-01T00:00:00Z" }));
    const loaded = await new FileCredentialStore(dir).load();
    expect(loaded).toMatchObject(base);
    expect(loaded?.consolePublicKey).toBeUndefined();
  });

  it("keeps the pinned key across save and load", async () => {
    const store = new FileCredentialStore(dir);
    const key = pem();
    await store.save({ ...base, consolePublicKey: key });
    expect((await new FileCredentialStore(dir).load())?.consolePublicKey).toBe(key);
  });

  it("a stored credential plus pinConsoleKey refuses a console presenting another key", async () => {
    const store = new FileCredentialStore(dir);
    const first = pem();
    const pinned = pinConsoleKey(undefined, first);
    expect(pinned.ok).toBe(true);
    if (pinned.ok) await store.save({ ...base, consolePublicKey: pinned.key });
    const stored = await store.load();
    expect(pinConsoleKey(stored?.consolePublicKey, pem()).ok).toBe(false);
    expect(pinConsoleKey(stored?.consolePublicKey, first)).toMatchObject({ ok: true, changed: false });
  });
});
