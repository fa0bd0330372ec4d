import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/console";

// The tree's rules (README "Layout"): no import circle between the folders of lib/ or of
// components/, and components/ui imports nothing from the folders above it.

const IMPORT = /(?:import|export)[^'"]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "generated" ? [] : sourceFiles(p);
    return /\.tsx?$/.test(e.name) ? [p] : [];
  });
}

/** Folder → folders it imports (within `base`), with one example import each. */
function folderGraph(base: string): Map<string, Map<string, string>> {
  const root = path.join(ROOT, base);
  const folderOf = (file: string) => {
    const parts = path.relative(root, file).split(path.sep);
    return parts.length > 1 ? parts[0]! : null;
  };
  const graph = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(root)) {
    const from = folderOf(file);
    if (!from) continue;
    for (const m of fs.readFileSync(file, "utf8").matchAll(IMPORT)) {
      const spec = (m[1] ?? m[2])!;
      const target = spec.startsWith(`@/${base}/`) ? path.join(ROOT, spec.slice(2)) : spec.startsWith(".") ? path.resolve(path.dirname(file), spec) : null;
      if (!target || !target.startsWith(root + path.sep)) continue;
      const to = folderOf(target);
      if (!to || to === from) continue;
      if (!graph.has(from)) graph.set(from, new Map());
      if (!graph.get(from)!.has(to)) graph.get(from)!.set(to, `${path.relative(ROOT, file)} → ${spec}`);
    }
  }
  return graph;
}

/** The import paths that close a circle: for each edge a → b, is a reachable from b? */
function circles(graph: Map<string, Map<string, string>>): string[] {
  const reaches = (from: string, to: string, seen = new Set<string>()): boolean => {
    if (from === to) return true;
    if (seen.has(from)) return false;
    seen.add(from);
    return [...(graph.get(from)?.keys() ?? [])].some((n) => reaches(n, to, seen));
  };
  const out: string[] = [];
  for (const [a, edges] of graph) for (const [b, example] of edges) if (reaches(b, a)) out.push(`${a} → ${b} (${example})`);
  return out.sort();
}

describe("layout", () => {
  it.each(["lib", "components"])("no import circle between the folders of %s/", (base) => {
    const graph = folderGraph(base);
    expect(graph.size).toBeGreaterThan(5);
    expect(circles(graph)).toEqual([]);
  });

  it("components/ui imports nothing from the folders above it", () => {
    expect([...(folderGraph("components").get("ui")?.values() ?? [])]).toEqual([]);
  });

  it("the circle check finds a circle (it can fail)", () => {
    const g = new Map([["a", new Map([["b", "x"]])], ["b", new Map([["c", "y"]])], ["c", new Map([["a", "z"]])]]);
    expect(circles(g)).toEqual(["a → b (x)", "b → c (y)", "c → a (z)"]);
  });
});
