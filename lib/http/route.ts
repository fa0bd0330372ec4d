import "server-only";
import { NextResponse, type NextRequest } from "next/server";
import { z } from "zod";
import type { Role } from "@/lib/api/schemas";
import type { Actor } from "@/lib/audit/actor";
import { authenticate } from "@/lib/auth/authenticate";
import { roleAtLeast } from "@/lib/auth/roles";
import { DomainError, ForbiddenError, RateLimitedError, UnauthorizedError } from "@/lib/errors";
import { log } from "@/lib/log";
import { DEFAULT_BODY_BYTES, readBodyText, tooLargeMessage } from "./body";
import { CLIENT_IP_HEADER } from "./headers";
import { findUnstorableInput } from "./storable-input";

type RouteParams = { params: Promise<Record<string, string | string[]>> };

interface Spec<B extends z.ZodType | undefined, Q extends z.ZodType | undefined, P extends z.ZodType | undefined> {
  /** Minimum role, or "public" for unauthenticated endpoints (login, agent enrollment). */
  auth: Role | "public";
  body?: B;
  /** Default 1 MiB. */
  maxBodyBytes?: number;
  query?: Q;
  params?: P;
}

type Infer<T> = T extends z.ZodType ? z.infer<T> : undefined;


/** A body or query checked for what no table can store, then against its schema: the data, or the 400 to answer. */
function parseInput(schema: z.ZodType, raw: unknown, where: "body" | "query"): { data: unknown } | Response {
  const unstorable = findUnstorableInput(raw, where);
  if (unstorable) return errorResponse(400, `invalid_${where}`, unstorable.message, [unstorable]);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return errorResponse(400, `invalid_${where}`, z.prettifyError(parsed.error), parsed.error.issues);
  return { data: parsed.data };
}

export interface RouteContext<B, Q, P, A> {
  req: NextRequest;
  actor: A;
  ip: string | null;
  body: B;
  query: Q;
  params: P;
}

export function errorResponse(status: number, code: string, message: string, issues?: unknown[]): NextResponse {
  return NextResponse.json({ error: { code, message, ...(issues ? { issues } : {}) } }, { status });
}

function queryObject(url: URL): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const all = url.searchParams.getAll(key).filter((v) => v !== "");
    if (all.length === 1) out[key] = all[0];
    else if (all.length > 1) out[key] = all;
  }
  return out;
}

/** Browsers send Origin on cross-site writes; a mismatch means another site is forging the request. */
function sameOrigin(req: NextRequest): boolean {
  const origin = req.headers.get("origin");
  if (!origin) return req.headers.get("sec-fetch-site") !== "cross-site";
  const host = req.headers.get("x-forwarded-host") ?? req.headers.get("host");
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/**
 * The shape of every API route: authenticate, authorize by role, parse the body, query and path
 * with zod, call the handler (one domain function), and map typed errors to HTTP statuses.
 */
export function route<
  B extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  P extends z.ZodType | undefined = undefined,
  S extends Spec<B, Q, P> = Spec<B, Q, P>,
>(
  spec: S & Spec<B, Q, P>,
  handler: (ctx: RouteContext<Infer<B>, Infer<Q>, Infer<P>, S["auth"] extends "public" ? Actor | null : Actor>) => Promise<Response | unknown>,
) {
  return async (req: NextRequest, rp: RouteParams): Promise<Response> => {
    const ip = req.headers.get(CLIENT_IP_HEADER);
    try {
      const who = await authenticate({ authorization: req.headers.get("authorization"), cookie: req.headers.get("cookie"), ip });
      if (spec.auth !== "public") {
        if (!who) throw new UnauthorizedError();
        if (!roleAtLeast(who.actor.role, spec.auth)) throw new ForbiddenError(`this needs the ${spec.auth} role; you are ${who.actor.role}`);
      }
      const writes = !["GET", "HEAD", "OPTIONS"].includes(req.method);
      // Cookie-authenticated writes must come from our own pages (Bearer tokens cannot be forged by a browser).
      if (writes && who?.via !== "api_token" && !sameOrigin(req)) {
        throw new ForbiddenError("cross-site request refused", "csrf");
      }
      let body: unknown = undefined;
      if (spec.body) {
        const limit = spec.maxBodyBytes ?? DEFAULT_BODY_BYTES;
        const read = await readBodyText(req, limit);
        // The unread rest of the body is discarded and the connection closed by server.ts.
        if (!read.ok) return errorResponse(413, "too_large", tooLargeMessage(limit));
        const text = read.text;
        let json: unknown;
        try {
          json = text === "" ? {} : JSON.parse(text);
        } catch {
          return errorResponse(400, "invalid_json", "request body is not valid JSON");
        }
        const parsed = parseInput(spec.body, json, "body");
        if (parsed instanceof Response) return parsed;
        body = parsed.data;
      }
      let query: unknown = undefined;
      if (spec.query) {
        const parsed = parseInput(spec.query, queryObject(req.nextUrl), "query");
        if (parsed instanceof Response) return parsed;
        query = parsed.data;
      }
      let params: unknown = undefined;
      if (spec.params) {
        const parsed = spec.params.safeParse(await rp.params);
        if (!parsed.success) return errorResponse(404, "not_found", z.prettifyError(parsed.error));
        params = parsed.data;
      }
      const result = await handler({ req, actor: (who?.actor ?? null) as never, ip, body: body as never, query: query as never, params: params as never });
      if (result instanceof Response) return result;
      return NextResponse.json(result ?? { ok: true });
    } catch (err) {
      if (err instanceof RateLimitedError) {
        const res = errorResponse(err.status, err.code, err.message);
        res.headers.set("retry-after", String(err.retryAfterSec));
        return res;
      }
      if (err instanceof DomainError) return errorResponse(err.status, err.code, err.message);
      log.error({ err, method: req.method, path: req.nextUrl.pathname }, "request failed");
      return errorResponse(500, "internal", "internal error; the console's log has the details");
    }
  };
}

export const IdParams = z.object({ id: z.string().uuid("not a valid id") });
