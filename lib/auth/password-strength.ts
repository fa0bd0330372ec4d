import "server-only";
import type { ZxcvbnFactory } from "@zxcvbn-ts/core";
import { BadRequestError } from "@/lib/errors";

/**
 * zxcvbn score 3 ("safely unguessable": about 10^8 guesses or more) is the minimum. Sign-in is
 * throttled and hashes are scrypt, so 3 already holds against online guessing and slows an
 * offline attack on a stolen table to years; 4 (10^10) refuses many passphrases people can
 * remember, and 2 (10^6) lets `password12`-like choices through.
 */
export const MIN_PASSWORD_SCORE = 3;

// The dictionaries are megabytes: load them on first use, once per process, on the server only.
let factory: Promise<ZxcvbnFactory> | null = null;
function estimator(): Promise<ZxcvbnFactory> {
  factory ??= (async () => {
    const [core, common, en] = await Promise.all([import("@zxcvbn-ts/core"), import("@zxcvbn-ts/language-common"), import("@zxcvbn-ts/language-en")]);
    return new core.ZxcvbnFactory({
      translations: en.translations,
      graphs: common.adjacencyGraphs,
      dictionary: { ...common.dictionary, ...en.dictionary },
    });
  })();
  return factory;
}

/** Why a password is too weak (zxcvbn's own feedback), or null if it is strong enough. */
export async function passwordWeakness(opts: { password: string; username?: string }): Promise<string | null> {
  const z = await estimator();
  const r = z.check(opts.password, opts.username ? [opts.username, "splicer"] : ["splicer"]);
  if (r.score >= MIN_PASSWORD_SCORE) return null;
  const parts = [r.feedback.warning, ...r.feedback.suggestions].filter((s): s is string => !!s);
  return `password too weak (strength ${r.score} of 4, at least ${MIN_PASSWORD_SCORE} needed)${parts.length ? `: ${parts.join(" ")}` : ""}`;
}

/** Throws a 400 naming the weakness unless the password is strong enough. */
export async function assertStrongPassword(opts: { password: string; username?: string }): Promise<void> {
  const weakness = await passwordWeakness(opts);
  if (weakness) throw new BadRequestError(weakness, "weak_password");
}
