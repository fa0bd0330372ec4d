// Prepared kernel releases (source, config, symbols, binaries fetched with apt) are kept between
// test files and runs: preparing one takes minutes, reusing it nothing.
import path from "node:path";
import { ROOT } from "./console";

export const KERNEL_CACHE_DIR = process.env.SPLICER_TEST_KERNEL_CACHE ?? path.join(ROOT, ".data/kernel-cache");
