// The console's only way to talk to the API: typed fetch helpers that throw the server's message.
// No server-only imports: this runs in the browser.

export class ApiRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly issues?: unknown[],
  ) {
    super(message);
    this.name = "ApiRequestError";
  }
}

export function isUnauthorized(e: unknown): boolean {
  return e instanceof ApiRequestError && e.status === 401;
}

type Query = Record<string, string | number | boolean | string[] | undefined | null>;

export function toQueryString(q: Query): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null || v === "") continue;
    if (Array.isArray(v)) v.forEach((x) => x !== "" && sp.append(k, x));
    else sp.set(k, String(v));
  }
  const s = sp.toString();
  return s ? `?${s}` : "";
}

export async function apiFetch<T>(
  path: string,
  init: { method?: string; body?: unknown; query?: Query; signal?: AbortSignal } = {},
): Promise<T> {
  const url = `/api/v1${path}${init.query ? toQueryString(init.query) : ""}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? "GET",
      credentials: "same-origin",
      headers: init.body !== undefined ? { "content-type": "application/json", accept: "application/json" } : { accept: "application/json" },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      signal: init.signal,
      cache: "no-store",
    });
  } catch (e) {
    if ((e as Error)?.name === "AbortError") throw e;
    throw new ApiRequestError("Cannot reach the Splicer console. Check your connection.", 0, "network_error");
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  if (!res.ok) {
    const err = (body as { error?: { code?: string; message?: string; issues?: unknown[] } } | undefined)?.error;
    throw new ApiRequestError(
      err?.message ?? `${res.status} ${res.statusText || "request failed"}`,
      res.status,
      err?.code ?? `http_${res.status}`,
      err?.issues,
    );
  }
  return body as T;
}

/** First zod issue for a field, when the server returned validation issues. */
export function fieldIssue(e: unknown, field: string): string | undefined {
  if (!(e instanceof ApiRequestError) || !e.issues) return undefined;
  for (const i of e.issues) {
    const issue = i as { path?: (string | number)[]; message?: string };
    if (issue.path?.[0] === field) return issue.message;
  }
  return undefined;
}

/**
 * The message of the first zod issue at `path` (or under it), when the server returned issues:
 * `issueAt(e, "strategy", "waves")` for a body's `strategy.waves`.
 */
export function issueAt(e: unknown, ...path: (string | number)[]): string | undefined {
  if (!(e instanceof ApiRequestError) || !e.issues) return undefined;
  for (const i of e.issues) {
    const issue = i as { path?: (string | number)[]; message?: string };
    if (issue.path && path.every((p, n) => issue.path![n] === p)) return issue.message;
  }
  return undefined;
}

/** The server's message without zod's "✖ … → at x" decoration, for a one-line error. */
export function plainMessage(e: unknown): string {
  if (e instanceof ApiRequestError && e.issues && e.issues.length > 0) {
    return e.issues.map((i) => (i as { message?: string }).message ?? "").filter(Boolean).join("; ");
  }
  return e instanceof Error ? e.message : String(e);
}
