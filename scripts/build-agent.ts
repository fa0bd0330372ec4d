// Bundles the agent into one file that runs with plain `node` (>= 18) on a host:
// agent/dist/splicer-agent.js. `npm run build:agent`, or import { buildAgent }.
import { build, type Plugin } from "esbuild";
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

// zod's `z` namespace object re-exports all ~60 of its error-message locales (about a third of
// the bundle). The agent only ever uses English, which zod loads on its own; stub the rest.
const zodEnglishOnly: Plugin = {
  name: "zod-english-only",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${path.sep}zod${path.sep}`)
        ? { path: path.join(path.dirname(args.importer), "../locales/en.js"), namespace: "zod-locales" }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "zod-locales" }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      loader: "js",
      resolveDir: path.dirname(args.path),
    }));
  },
};

// ws loads two native speed-ups, and debug a colour probe, if it can `require` them, and does without
// them otherwise. The agent always does: they are bundled as modules that fail to load, so it never
// asks the host for a module (a single executable application can only load built-ins, and
// warns at every start when asked for anything else).
const withoutOptionalNatives: Plugin = {
  name: "without-optional-natives",
  setup(b) {
    b.onResolve({ filter: /^(bufferutil|utf-8-validate|supports-color)$/ }, (args) => ({ path: args.path, namespace: "absent" }));
    b.onLoad({ filter: /.*/, namespace: "absent" }, (args) => ({ contents: `throw new Error(${JSON.stringify(`${args.path} is not bundled`)});`, loader: "js" }));
  },
};

export interface BuildAgentOptions {
  outfile?: string;
  /** Baked into the bundle as the agent version; defaults to package.json's version. */
  version?: string;
}

export interface BuildAgentResult {
  outfile: string;
  bytes: number;
  ms: number;
  version: string;
}

export async function buildAgent(opts: BuildAgentOptions = {}): Promise<BuildAgentResult> {
  const started = performance.now();
  const outfile = path.resolve(opts.outfile ?? path.join(ROOT, "agent/dist/splicer-agent.js"));
  const pkg = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")) as { version: string };
  const version = opts.version ?? process.env.SPLICER_AGENT_VERSION ?? pkg.version;
  await mkdir(path.dirname(outfile), { recursive: true });
  await build({
    entryPoints: [path.join(ROOT, "agent/cli.ts")],
    outfile,
    bundle: true,
    platform: "node",
    // CommonJS: runs as a lone file on a host (no package.json there means CommonJS), and the
    // bundled CommonJS deps (ws) can `require` Node built-ins without an ESM shim.
    format: "cjs",
    target: "node18",
    minify: false,
    sourcemap: false,
    legalComments: "none",
    banner: { js: "#!/usr/bin/env node" },
    define: { __SPLICER_AGENT_VERSION__: JSON.stringify(version) },
    plugins: [zodEnglishOnly, withoutOptionalNatives],
    logLevel: "warning",
  });
  // This repository's package.json says "type": "module"; keep the bundle CommonJS inside it too.
  await writeFile(path.join(path.dirname(outfile), "package.json"), '{ "type": "commonjs" }\n');
  await chmod(outfile, 0o755);
  const { size } = await stat(outfile);
  return { outfile, bytes: size, ms: Math.round(performance.now() - started), version };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  buildAgent().then(
    (r) => {
      process.stderr.write(`built ${path.relative(process.cwd(), r.outfile)} (${(r.bytes / 1024).toFixed(0)} KiB, v${r.version}) in ${r.ms} ms\n`);
    },
    (err: unknown) => {
      process.stderr.write(`build-agent failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
