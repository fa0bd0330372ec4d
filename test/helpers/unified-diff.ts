// Builds a one-file git diff for tests: the hunk line counts are computed, so a body can be
// written naturally (a leading and a trailing newline are dropped).

export interface HunkSpec {
  /** First line of the hunk in the old and in the new file. */
  at: [number, number];
  /** git's function context, the text after the second `@@`. */
  context?: string;
  /** Lines with their ` `, `-` or `+` prefix. */
  body: string;
}

export function unifiedDiff(path: string, hunks: HunkSpec[]): string {
  const out = [`diff --git a/${path} b/${path}`, "index 1111111..2222222 100644", `--- a/${path}`, `+++ b/${path}`];
  for (const h of hunks) {
    const lines = h.body.replace(/^\n/, "").replace(/\n$/, "").split("\n");
    const old = lines.filter((l) => !l.startsWith("+")).length;
    const neu = lines.filter((l) => !l.startsWith("-")).length;
    out.push(`@@ -${h.at[0]},${old} +${h.at[1]},${neu} @@${h.context ? ` ${h.context}` : ""}`, ...lines);
  }
  return out.join("\n") + "\n";
}
