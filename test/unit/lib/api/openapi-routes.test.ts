import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import * as Protocol from "@/agent/protocol";
import { OPERATIONS } from "@/lib/api/openapi";
import * as S from "@/lib/api/schemas";
import { ROOT } from "../../../helpers/console";

// The OpenAPI document against the route handlers themselves: every route file's handlers are in
// it with the role they check and the body and query schemas they validate with, and it lists
// nothing that has no handler.
type Found = { method: string; path: string; role: string; body?: string; query?: string };

function routes(): Found[] {
  const out: Found[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === "route.ts") {
        const api = "/" + path.relative(path.join(ROOT, "app"), path.dirname(p)).replace(/\[(\w+)\]/g, "{$1}");
        const src = fs.readFileSync(p, "utf8");
        for (const m of src.matchAll(/export const (GET|POST|PATCH|DELETE|PUT) = route\(\{([^}]*)\}/g)) {
          const opts = m[2]!;
          out.push({
            method: m[1]!.toLowerCase(),
            path: api,
            role: /auth: "(\w+)"/.exec(opts)?.[1] ?? "?",
            ...(/body: (\w+)/.exec(opts) ? { body: /body: (\w+)/.exec(opts)![1] } : {}),
            ...(/query: (\w+)/.exec(opts) ? { query: /query: (\w+)/.exec(opts)![1] } : {}),
          });
        }
        // Plain handlers (static files, health): public, no body.
        for (const m of src.matchAll(/export async function (GET|POST)\(/g)) out.push({ method: m[1]!.toLowerCase(), path: api, role: "public" });
      }
    }
  };
  walk(path.join(ROOT, "app/api"));
  // Served by server.ts itself, before Next (streamed from the artifact store): the agent's credential, not a role.
  const server = fs.readFileSync(path.join(ROOT, "server.ts"), "utf8");
  const download = fs.readFileSync(path.join(ROOT, "lib/agents/artifact-http.ts"), "utf8");
  if (server.includes("serveArtifactDownload(") && download.includes("/api/v1/agent/artifacts/")) out.push({ method: "get", path: "/api/v1/agent/artifacts/{id}", role: "public" });
  return out;
}

const byName = (name: string): unknown => (S as Record<string, unknown>)[name] ?? (Protocol as Record<string, unknown>)[name];

describe("the OpenAPI document", () => {
  const found = routes();

  it("finds the route handlers (else the test proves nothing)", () => {
    expect(found.length).toBeGreaterThan(50);
  });

  it.each(found.map((f) => [`${f.method.toUpperCase()} ${f.path}`, f] as const))("has %s with its role and schemas", (_name, f) => {
    const op = OPERATIONS.find((o) => o.method === f.method && o.path === f.path);
    expect(op, `${f.method} ${f.path} is not in lib/api/openapi.ts`).toBeDefined();
    expect(op!.role).toBe(f.role);
    if (f.body) expect(op!.body, `body ${f.body}`).toBe(byName(f.body));
    else expect(op!.body).toBeUndefined();
    if (f.query) expect(op!.query, `query ${f.query}`).toBe(byName(f.query));
  });

  it("lists no operation without a handler", () => {
    const handled = new Set(found.map((f) => `${f.method} ${f.path}`));
    expect(OPERATIONS.map((o) => `${o.method} ${o.path}`).filter((k) => !handled.has(k))).toEqual([]);
  });
});
