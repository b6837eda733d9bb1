/**
 * The session pool's hit rate over time, for the console's chart: each AcquireSession that
 * leased a pooled session is a hit, each that found none is a miss, as the `SessionHit` and
 * `SessionMiss` metrics count them on AWS. Counted in buckets of a fixed width, the last hour kept.
 */

export interface HitRateBucket {
  /** Epoch milliseconds at the bucket's start. */
  start: number;
  hits: number;
  misses: number;
}

export class SessionHitRate {
  private readonly buckets: HitRateBucket[] = [];

  constructor(
    readonly bucketMs = 10_000,
    private readonly keptMs = 60 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  record(hit: boolean): void {
    const now = this.now();
    const start = now - (now % this.bucketMs);
    let bucket = this.buckets.at(-1);
    if (bucket?.start !== start) {
      bucket = { start, hits: 0, misses: 0 };
      this.buckets.push(bucket);
      while ((this.buckets[0]?.start ?? now) < now - this.keptMs) this.buckets.shift();
    }
    if (hit) bucket.hits++;
    else bucket.misses++;
  }

  /** The buckets with acquisitions in them, oldest first. */
  series(): HitRateBucket[] {
    return this.buckets.map((bucket) => ({ ...bucket }));
  }
}

/**
 * Whether an AcquireSession result (`{Payload: state}`) is a hit: it names a pooled session.
 * Undefined for anything else, such as a failed invocation.
 */
export function acquireHit(result: unknown): boolean | undefined {
  const session = (result as { Payload?: { session?: { sessionId?: unknown; reused?: unknown } } })
    ?.Payload?.session;
  if (session === undefined) return undefined;
  return session.reused === true && typeof session.sessionId === 'string';
}
