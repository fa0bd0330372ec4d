import "server-only";
import { unstorableText } from "@/agent/protocol";

export interface UnstorableInput {
  /** Where it is, as the client wrote it: `query.q`, `body.selector.labels.env`, `body.log[3]`. */
  path: string;
  message: string;
}

const isPlainKey = (k: string) => /^[A-Za-z_$][\w$]*$/.test(k);

/**
 * The first string (object key or value) anywhere in a parsed JSON body or query object that
 * Postgres cannot store (a NUL, an unpaired surrogate), named by its path. Checked at the edge,
 * for every route, so no such text reaches a query (where it failed with a 500) whatever the
 * route's schema says. Iterative: a deeply nested body must not overflow the stack.
 */
export function findUnstorableInput(value: unknown, root: string): UnstorableInput | null {
  const stack: { v: unknown; path: string }[] = [{ v: value, path: root }];
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (typeof v === "string") {
      const why = unstorableText(v);
      if (why) return { path, message: `${path} ${why}` };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: `${path}[${i}]` });
    } else if (v !== null && typeof v === "object") {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, child] = entries[i];
        // JSON.stringify escapes a NUL or lone surrogate, so the name is safe to echo.
        const childPath = isPlainKey(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`;
        const why = unstorableText(k);
        if (why) return { path: childPath, message: `the name of ${childPath} ${why}` };
        stack.push({ v: child, path: childPath });
      }
    }
  }
  return null;
}
