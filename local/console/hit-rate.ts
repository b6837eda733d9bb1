/**
 * The session pool's hit rate over time, for the console's chart: each query that got a pooled
 * session is a hit, each that did not is a miss, as the `SessionHit` and `SessionMiss` metrics
 * count them on AWS. Counted in buckets of a fixed width, the last hour kept.
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

type SessionOf = { session?: { sessionId?: unknown; reused?: unknown; sessionsLeased?: unknown } };

/**
 * Whether a query was a hit, from one invocation of its workflow (the input it got and the
 * `{Payload: state}` it returned): AcquireSession decides, unless every session of the pool was
 * leased; then SubmitQuery does, which takes a session given back if one comes before the one it
 * opens. Undefined for any other invocation, and for a failed one.
 */
export function sessionHitOf(
  functionName: string,
  payload: unknown,
  result: unknown,
): boolean | undefined {
  const returned = (result as { Payload?: SessionOf })?.Payload?.session;
  if (returned === undefined) return undefined;
  const isHit = returned.reused === true && typeof returned.sessionId === 'string';
  if (functionName === 'AcquireSession')
    return returned.sessionsLeased === true ? undefined : isHit;
  const given = (payload as SessionOf)?.session;
  if (functionName === 'SubmitQuery' && given?.sessionsLeased === true && given.sessionId === null)
    return isHit;
  return undefined;
}
