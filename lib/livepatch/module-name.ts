import "server-only";
import { createHash } from "node:crypto";

/** Kernel module names are limited to MODULE_NAME_LEN - 1 = 55 characters. */
export const MAX_MODULE_NAME = 55;
export const MODULE_NAME_RE = /^[A-Za-z0-9_]+$/;

/**
 * The livepatch module name for a patch: `livepatch_` + the first 12 hex digits of its id
 * (dashes dropped). Valid as a kernel module name and as the /sys/kernel/livepatch/<name>
 * directory. An id without 12 hex digits (not a UUID) is hashed instead, so the name is stable.
 */
export function livepatchModuleName(patchId: string): string {
  const hex = patchId.replace(/-/g, "").toLowerCase();
  const stem = /^[0-9a-f]{12}/.test(hex)
    ? hex.slice(0, 12)
    : createHash("sha256").update(patchId).digest("hex").slice(0, 12);
  return `livepatch_${stem}`;
}

/**
 * livepatchModuleName in SQL, for queries that ask "is this patch live on that host" across many
 * rows. Only for UUID ids (every patch id is one). `col` is trusted SQL, e.g. `p.id`.
 */
export function moduleNameSqlText(col: string): string {
  return `('livepatch_' || substr(replace(${col}::text, '-', ''), 1, 12))`;
}
