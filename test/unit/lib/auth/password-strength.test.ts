import { describe, expect, it } from "vitest";
import { MIN_PASSWORD_SCORE, assertStrongPassword, passwordWeakness } from "@/lib/auth/password-strength";

describe("password strength (zxcvbn)", () => {
  it.each(["aaaaaaaaaa", "1234567890", "password12", " ".repeat(10), "qwertyuiop", "Password123!"])("refuses %j, naming the weakness", async (pw) => {
    const w = await passwordWeakness({ password: pw, username: "vera" });
    expect(w).toMatch(new RegExp(`^password too weak \\(strength [0-${MIN_PASSWORD_SCORE - 1}] of 4, at least ${MIN_PASSWORD_SCORE} needed\\): .+`));
  });

  it("names zxcvbn's feedback: repeats, common passwords", async () => {
    expect(await passwordWeakness({ password: "aaaaaaaaaa" })).toMatch(/Repeated characters/);
    expect(await passwordWeakness({ password: "password12" })).toMatch(/commonly used password/);
  });

  it("counts the username as a guess: a password built on it is weaker than the same shape without it", async () => {
    const pw = "margarethe.vonwinterfeld";
    expect(await passwordWeakness({ password: pw, username: "someone" })).toBeNull();
    expect(await passwordWeakness({ password: pw, username: "margarethe.vonwinterfeld" })).not.toBeNull();
  });

  it.each(["correct horse battery staple", "vera-password-1", "auditor-password-1", "viewer-password-1", "operator-password-1", "pw-Ab3dE_fG9hIj"])(
    "accepts %j",
    async (pw) => {
      expect(await passwordWeakness({ password: pw, username: "vera" })).toBeNull();
    },
  );

  it("throws a 400 with code weak_password", async () => {
    await expect(assertStrongPassword({ password: "1234567890" })).rejects.toMatchObject({ status: 400, code: "weak_password" });
  });
});
