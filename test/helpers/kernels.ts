// Prepared kernel releases (source, config, symbols, binaries fetched with apt) are kept between
// test files and runs: preparing one takes minutes, reusing it nothing.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { ROOT } from "./console";

export const KERNEL_CACHE_DIR = process.env.SPLICER_TEST_KERNEL_CACHE ?? path.join(ROOT, ".data/kernel-cache");

function aptKnows(pkg: string): boolean {
  try {
    return execFileSync("apt-cache", ["show", pkg], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).includes(`Package: ${pkg}`);
  } catch {
    return false;
  }
}

/** Tests on a real release are skipped where apt cannot fetch it, except in CI (which must run them). */
export function releaseUnavailable(release: string): boolean {
  return process.env.CI !== "true" && !aptKnows(`linux-image-${release}-unsigned`);
}
