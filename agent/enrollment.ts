// Exchanges a one-time enrollment token for a per-host credential over HTTP. A 4xx answer is
// final for that token (wrong, used or expired: retrying cannot help); 5xx and network errors are
// the console being down or restarting, so retry with backoff.
import { EnrollResponseSchema, type EnrollRequest, type EnrollResponse } from "./protocol";
import { Backoff } from "./backoff";
import { errorMessage, silentLogger, type Logger } from "./log";
import { realTimers, sleep, type Timers } from "./timers";

export const ENROLL_PATH = "/api/v1/agent/enroll";

export class EnrollmentRejectedError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "EnrollmentRejectedError";
  }
}

export class EnrollmentAbortedError extends Error {
  constructor() {
    super("enrollment aborted");
    this.name = "EnrollmentAbortedError";
  }
}

export interface EnrollerOptions {
  server: string;
  fetch?: typeof fetch;
  backoff?: Backoff;
  timers?: Timers;
  log?: Logger;
  requestTimeoutMs?: number;
}

export function enrollUrl(server: string): string {
  // Keep any path prefix the console is served under (new URL(abs, base) would drop it).
  return server.replace(/\/+$/, "") + ENROLL_PATH;
}

async function errorFromBody(res: Response): Promise<{ code: string; message: string }> {
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (body?.error && typeof body.error.message === "string") {
      return { code: typeof body.error.code === "string" ? body.error.code : `http_${res.status}`, message: body.error.message };
    }
  } catch {
    // not JSON: fall through
  }
  return { code: `http_${res.status}`, message: text.slice(0, 200) || res.statusText || `HTTP ${res.status}` };
}

/**
 * Aborts on either signal (AbortSignal.any() is Node >= 20.3; the bundle targets Node 18).
 * `dispose` removes the listener from the long-lived signal, so retries do not pile them up.
 */
function anySignal(a: AbortSignal, b?: AbortSignal): { signal: AbortSignal; dispose: () => void } {
  if (!b) return { signal: a, dispose: () => undefined };
  const ctrl = new AbortController();
  const abort = () => ctrl.abort();
  if (a.aborted || b.aborted) abort();
  a.addEventListener("abort", abort, { once: true });
  b.addEventListener("abort", abort, { once: true });
  return { signal: ctrl.signal, dispose: () => b.removeEventListener("abort", abort) };
}

export class Enroller {
  private readonly url: string;
  private readonly fetch: typeof fetch;
  private readonly backoff: Backoff;
  private readonly timers: Timers;
  private readonly log: Logger;
  private readonly requestTimeoutMs: number;

  constructor(opts: EnrollerOptions) {
    this.url = enrollUrl(opts.server);
    this.fetch = opts.fetch ?? globalThis.fetch;
    this.backoff = opts.backoff ?? new Backoff();
    this.timers = opts.timers ?? realTimers;
    this.log = opts.log ?? silentLogger;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 15_000;
  }

  /** Resolves with the credential, or throws EnrollmentRejectedError / EnrollmentAbortedError. */
  async enroll(req: EnrollRequest, signal?: AbortSignal): Promise<EnrollResponse> {
    for (;;) {
      if (signal?.aborted) throw new EnrollmentAbortedError();
      let retryAfterMs = 0;
      let reason: string;
      const combined = anySignal(AbortSignal.timeout(this.requestTimeoutMs), signal);
      try {
        const res = await this.fetch(this.url, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json" },
          body: JSON.stringify(req),
          signal: combined.signal,
        });
        if (res.ok) {
          const parsed = EnrollResponseSchema.safeParse(await res.json().catch(() => null));
          if (parsed.success) {
            this.backoff.reset();
            return parsed.data;
          }
          reason = "console sent an invalid enrollment response";
        } else {
          const err = await errorFromBody(res);
          // 408 and 429 are "not now", not "no".
          if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
            throw new EnrollmentRejectedError(res.status, err.code, err.message);
          }
          const ra = Number(res.headers.get("retry-after"));
          if (Number.isFinite(ra) && ra > 0) retryAfterMs = Math.min(ra, 3600) * 1000;
          reason = `HTTP ${res.status}: ${err.message}`;
        }
      } catch (err) {
        if (err instanceof EnrollmentRejectedError) throw err;
        if (signal?.aborted) throw new EnrollmentAbortedError();
        reason = errorMessage(err);
      } finally {
        combined.dispose();
      }
      const delay = Math.max(retryAfterMs, this.backoff.next());
      this.log.warn("enrollment failed, retrying", { reason, retryInMs: delay, attempt: this.backoff.attempts });
      await sleep(this.timers, delay, signal);
    }
  }
}
