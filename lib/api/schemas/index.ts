// zod schemas of the public HTTP API (/api/v1): the single source for route validation, the
// OpenAPI document (lib/api/openapi.ts) and the console's typed fetches, one file per domain. No
// server-only imports here: components import the inferred types.
export * from "./common";
export * from "./auth";
export * from "./hosts";
export * from "./enrollment";
export * from "./operators";
export * from "./settings";
export * from "./audit";
export * from "./ui-events";
export * from "./patches";
export * from "./groups";
export * from "./exposure";
export * from "./rollouts";
