// Replaced at bundle time by esbuild's `define` (scripts/build-agent.ts); "dev" when run from source.
declare const __SPLICER_AGENT_VERSION__: string | undefined;

export const AGENT_VERSION: string =
  typeof __SPLICER_AGENT_VERSION__ === "string" ? __SPLICER_AGENT_VERSION__ : "dev";
