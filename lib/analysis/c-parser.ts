// tree-sitter's C grammar, compiled to WebAssembly: a real C parser with error recovery
// (fragments of a hunk are rarely complete C) and no native build. Loaded once per process.
import { createRequire } from "node:module";
import path from "node:path";
import { Language, Parser, type Node } from "web-tree-sitter";

export type { Node as SyntaxNode } from "web-tree-sitter";

const require = createRequire(import.meta.url);
// Inside Next's server bundle `require` (even from createRequire) is the bundler's, which tries to
// bundle the .wasm files and cannot resolve computed names. A require created at run time, from
// Node's own module loader and anchored at the working directory (the console always runs from the
// repository root), resolves them as plain files; elsewhere (tests, scripts) the module's own works.
function resolveFile(specifier: string): string {
  try {
    const mod = process.getBuiltinModule("node:module") as typeof import("node:module");
    return mod.createRequire(path.join(process.cwd(), "package.json")).resolve(specifier);
  } catch {
    return require.resolve(specifier);
  }
}

let parserPromise: Promise<Parser> | undefined;

async function loadParser(): Promise<Parser> {
  // Paths from node_modules resolution, so this works from any working directory.
  const runtimeWasm = resolveFile(["web-tree-sitter", "web-tree-sitter.wasm"].join("/"));
  await Parser.init({ locateFile: () => runtimeWasm });
  const c = await Language.load(resolveFile(["tree-sitter-c", "tree-sitter-c.wasm"].join("/")));
  const parser = new Parser();
  parser.setLanguage(c);
  return parser;
}

/** The shared C parser (the first call loads the grammar, ~40 ms). */
export function cParser(): Promise<Parser> {
  parserPromise ??= loadParser().catch((err: unknown) => {
    parserPromise = undefined; // let a later call retry rather than cache the failure
    throw err;
  });
  return parserPromise;
}

/** Parses a snippet of C and returns its top-level named nodes. */
export function parseTopLevel(parser: Parser, source: string): Node[] {
  const tree = parser.parse(source);
  if (!tree) return [];
  return tree.rootNode.namedChildren.filter((n): n is Node => n !== null);
}

/** The identifier a declarator declares: `*foo[3]` → foo, `(*fn)(int)` → fn. */
export function declaredName(declarator: Node | null): string | undefined {
  return declaredIdentifier(declarator)?.text;
}

/** The identifier node a declarator declares, so that callers can cut it out by position. */
export function declaredIdentifier(declarator: Node | null): Node | undefined {
  let node = declarator;
  while (node) {
    if (node.type === "identifier" || node.type === "field_identifier" || node.type === "type_identifier") return node;
    node = node.childForFieldName("declarator") ?? node.namedChildren.find((c) => c?.type.endsWith("declarator") || c?.type.endsWith("identifier")) ?? null;
  }
  return undefined;
}

/** A node's text without the identifier it declares (`struct ovs_net *ovs_net` → `struct ovs_net *`). */
export function textWithout(node: Node, identifier: Node | undefined): string {
  if (!identifier) return node.text;
  return node.text.slice(0, identifier.startIndex - node.startIndex) + node.text.slice(identifier.endIndex - node.startIndex);
}
