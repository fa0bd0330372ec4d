// Request bodies are limited while they stream in (lib/http/body.ts): a huge POST before any
// authentication must not cost the console memory. Against a real console process.
import fs from "node:fs";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_BODY_BYTES, PROCESS_BODY_BYTES } from "@/lib/http/body";
import { startTestConsole, type TestConsole } from "../../helpers/console";

let c: TestConsole;
beforeAll(async () => {
  c = await startTestConsole();
});
afterAll(async () => {
  await c?.stop();
});

const MB = 1 << 20;

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error("no VmRSS");
  return Number(m[1]) * 1024;
}

/**
 * POSTs `total` bytes with chunked encoding (no Content-Length, so only counting can stop it),
 * as fast as the console takes them, and resolves with the answer as soon as one arrives.
 */
function chunkedPost(path: string, total: number, headers: Record<string, string> = {}): Promise<{ status: number; body: string; sent: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${c.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers } });
    const chunk = Buffer.alloc(MB, 0x20);
    let sent = 0;
    let answered = false;
    req.on("response", (res) => {
      answered = true;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => {
        resolve({ status: res.statusCode!, body, sent });
        req.destroy();
      });
    });
    req.on("error", (err) => {
      if (!answered) reject(new Error(`no answer after sending ${sent} bytes: ${err.message}`));
    });
    const pump = () => {
      while (!answered && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

describe("request body limits", () => {
  it("refuses concurrent 200 MB chunked logins with 413 at the limit, and the console's memory stays flat", async () => {
    const pid = c.proc.pid!;
    // Warm up what a login request loads (route module, zod, argon2) so the baseline includes it.
    const warm = await fetch(`${c.url}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "nobody", password: "x".repeat(12) }) });
    expect(warm.status).toBe(401);
    expect((await chunkedPost("/api/v1/auth/login", 2 * MB)).status).toBe(413);
    const before = rssBytes(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 20);
    let answers: { status: number; body: string; sent: number }[];
    try {
      answers = await Promise.all([0, 1, 2].map(() => chunkedPost("/api/v1/auth/login", 200 * MB)));
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, rssBytes(pid));
    console.log(`console RSS ${(before / MB).toFixed(0)} MiB before, peak +${((peak - before) / MB).toFixed(1)} MiB; client sent ${answers.map((a) => (a.sent / MB).toFixed(0)).join(", ")} MiB`);
    // Each refused request holds at most its 1 MiB limit plus stream buffers (~3 MiB for three);
    // the rest of the allowance is the allocator's and V8's own noise. Reading the bodies whole,
    // as before, costs at least 600 MB (three 200 MB strings).
    expect(peak - before).toBeLessThan(64 * MB);
    for (const a of answers) {
      expect(a.status).toBe(413);
      expect(JSON.parse(a.body).error).toEqual({ code: "too_large", message: `request body over the limit of ${DEFAULT_BODY_BYTES} bytes` });
    }
    // The console still answers normally.
    const ok = await fetch(`${c.url}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: c.adminPassword }) });
    expect(ok.status).toBe(200);
  });

  it("refuses a declared Content-Length over the limit before reading any of the body", async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${c.url}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json", "content-length": String(200 * MB) } });
      req.on("response", (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => {
          resolve({ status: res.statusCode!, body });
          req.destroy();
        });
      });
      req.on("error", reject);
      // Headers only: the answer must come without a single body byte sent.
      req.flushHeaders();
    });
    expect(answer.status).toBe(413);
    expect(answer.body).toContain(String(PROCESS_BODY_BYTES));
  });

  it("cuts off a chunked body to a page (outside route()) at the process-wide cap", async () => {
    const a = await chunkedPost("/login", 50 * MB);
    expect(a.status).toBe(413);
    expect(JSON.parse(a.body).error.message).toBe(`request body over the limit of ${PROCESS_BODY_BYTES} bytes`);
  });

  it("a route's own limit applies to a body just over it, even when it is declared and under the process cap", async () => {
    const body = JSON.stringify({ username: "admin", password: "p".repeat(DEFAULT_BODY_BYTES) });
    const r = await fetch(`${c.url}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(r.status).toBe(413);
    expect(((await r.json()) as { error: { message: string } }).error.message).toContain(String(DEFAULT_BODY_BYTES));
  });
});
