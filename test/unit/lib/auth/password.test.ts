import { describe, expect, it } from "vitest";
import { generatePassword, hashPassword, verifyPassword } from "@/lib/auth/password";

describe("password hashing (scrypt)", () => {
  it("verifies the right password and refuses others", async () => {
    const h = await hashPassword("correct horse battery");
    expect(h).toMatch(/^scrypt\$32768\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(await verifyPassword("correct horse battery", h)).toBe(true);
    expect(await verifyPassword("correct horse batterY", h)).toBe(false);
  });
  it("salts every hash", async () => {
    expect(await hashPassword("same")).not.toBe(await hashPassword("same"));
  });
  it("refuses hashes of an unknown format instead of throwing", async () => {
    expect(await verifyPassword("x", "md5$abc")).toBe(false);
  });
  it("generates long random passwords", () => {
    const p = generatePassword();
    expect(p).toHaveLength(20);
    expect(generatePassword()).not.toBe(p);
  });
});
