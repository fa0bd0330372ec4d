// tree-sitter's C grammar, compiled to WebAssembly: a real C parser with error recovery
// (fragments of a hunk are rarely complete C) and no native build. Loaded once per process.
import { createRequire } from "node:module";
import { Language, Parser, type Node } from "web-tree-sitter";

export type { Node as SyntaxNode } from "web-tree-sitter";

const require = createRequire(import.meta.url);

let parserPromise: Promise<Parser> | undefined;

async function loadParser(): Promise<Parser> {
  // Paths from node_modules resolution, so this works from any working directory.
  const runtimeWasm = require.resolve("web-tree-sitter/web-tree-sitter.wasm");
  await Parser.init({ locateFile: () => runtimeWasm });
  const c = await Language.load(require.resolve("tree-sitter-c/tree-sitter-c.wasm"));
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
  let node = declarator;
  while (node) {
    if (node.type === "identifier" || node.type === "field_identifier" || node.type === "type_identifier") return node.text;
    node = node.childForFieldName("declarator") ?? node.namedChildren.find((c) => c?.type.endsWith("declarator") || c?.type.endsWith("identifier")) ?? null;
  }
  return undefined;
}
