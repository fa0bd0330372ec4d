// node --import tsx test/bench/analysis.bench.ts --old <tree> --new <tree> [--out rows.jsonl]
// node --import tsx test/bench/analysis.bench.ts --dir <directory of .diff files> [--out rows.jsonl]
//
// Runs the staging-time analysis (lib/patches) on every changed .c file of two kernel source
// trees, one `diff -up` per file with git-style paths (a/…, b/…) as a person would stage it, or
// on every .diff in a directory. Prints the time per file and in total, the verdicts, the reason
// codes, and how many changes it could not attribute ("cannot tell": a goto label as context, a
// context cut short, none). E.g. the trees of Debian's linux-source-6.1 6.1.187-1 and 6.1.190-1
// (`apt-get download linux-source-6.1=6.1.187-1`, then /usr/src/linux-source-6.1.tar.xz in it).
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { analysePatch, type PatchAnalysis } from "../../lib/analysis/analysis";
import { treeDiffs } from "./coverage-corpus";
import { log, machine, pct } from "./lib";

const { values } = parseArgs({ options: { old: { type: "string" }, new: { type: "string" }, dir: { type: "string" }, out: { type: "string" } } });

function* dirDiffs(dir: string): Generator<{ name: string; text: string }> {
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith(".diff")).sort()) yield { name: f, text: fs.readFileSync(path.join(dir, f), "utf8") };
}

const fromTrees = (a: string, b: string) => Array.from(treeDiffs(a, b), (d) => ({ name: d.file, text: d.text }));
const source = values.dir ? dirDiffs(values.dir) : values.old && values.new ? fromTrees(values.old, values.new) : undefined;
if (!source) throw new Error("give --old and --new source trees, or --dir with .diff files");
// Made first, so that the timings are the analysis alone, not diff's processes beside it.
const diffs = [...source];

await analysePatch("--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-int x;\n+int y;\n"); // load the C grammar first
const rows: { file: string; ms: number; verdict: PatchAnalysis["verdict"] | "refused"; functions: string[]; reasons: string[] }[] = [];
for (const { name, text } of diffs) {
  const started = performance.now();
  try {
    const a = await analysePatch(text, { maxBytes: 1 << 30 });
    rows.push({ file: name, ms: performance.now() - started, verdict: a.verdict, functions: a.functions, reasons: a.reasons.map((r) => `${r.code}${r.code === "unrecognised_change" ? `:${cannotTell(r.message)}` : ""}`) });
  } catch (err) {
    rows.push({ file: name, ms: performance.now() - started, verdict: "refused", functions: [], reasons: [String(err)] });
  }
}

function cannotTell(message: string): string {
  if (message.includes("goto label")) return "label";
  if (message.includes("cut short")) return "cut";
  if (message.includes("no function context")) return "no-context";
  return "other";
}

const count = (xs: string[]) => Object.fromEntries(Object.entries(xs.reduce<Record<string, number>>((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {})).sort((a, b) => b[1] - a[1]));
const ms = rows.map((r) => r.ms);
const total = ms.reduce((s, x) => s + x, 0);
if (values.out) fs.writeFileSync(values.out, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
log(machine());
console.log(
  JSON.stringify(
    {
      files: rows.length,
      totalMs: Math.round(total),
      perFileMs: { mean: +(total / rows.length).toFixed(2), median: +pct(ms, 50).toFixed(2), p95: +pct(ms, 95).toFixed(2), max: +Math.max(...ms).toFixed(1) },
      functionChanges: rows.reduce((n, r) => n + r.functions.length, 0),
      verdicts: count(rows.map((r) => r.verdict)),
      reasons: count(rows.flatMap((r) => r.reasons)),
    },
    null,
    2,
  ),
);
