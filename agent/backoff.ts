// Exponential backoff with full jitter (delay = random(0, min(cap, base * 2^attempt))).
// Full jitter spreads thousands of agents that lost the console at the same instant evenly over
// the window instead of having them knock again in synchronised waves.

export interface BackoffOptions {
  baseMs?: number;
  capMs?: number;
  /** Source of uniform numbers in [0, 1); injectable for tests and seeded simulations. */
  random?: () => number;
}

export const DEFAULT_BACKOFF = { baseMs: 1_000, capMs: 60_000 } as const;

export class Backoff {
  readonly baseMs: number;
  readonly capMs: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(opts: BackoffOptions = {}) {
    this.baseMs = opts.baseMs ?? DEFAULT_BACKOFF.baseMs;
    this.capMs = opts.capMs ?? DEFAULT_BACKOFF.capMs;
    this.random = opts.random ?? Math.random;
    if (!(this.baseMs > 0) || !(this.capMs >= this.baseMs)) {
      throw new RangeError(`backoff: need 0 < baseMs <= capMs (got ${this.baseMs}, ${this.capMs})`);
    }
  }

  /** Number of delays handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** Upper bound of the window the next delay is drawn from. */
  ceilingMs(): number {
    // Cap the exponent so 2^attempt cannot overflow to Infinity after days of retrying.
    return Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
  }

  /** The next delay in ms, drawn uniformly from [0, ceiling). */
  next(): number {
    const delay = Math.floor(this.random() * this.ceilingMs());
    this.attempt++;
    return delay;
  }

  reset(): void {
    this.attempt = 0;
  }
}
