import { STATES } from '../../statemachine/definition.ts';
import type { ExecutionRecord } from '../harness.ts';
import type {
  ConcurrentVariantResult,
  LatencyBreakdown,
  LatencyPath,
  MissBreakdown,
  RunCounts,
} from '../model.ts';
import { median, percentile, spreadOf } from '../stats.ts';

/**
 * What a workload's runs measured, computed from their executions and the Data API's sessions:
 * each run's figures, why queries missed, where their time went, and the medians over the runs.
 */

export type ConcurrentVariant = 'spectra' | 'singleSession' | 'noReuse';
export const CONCURRENT_VARIANTS: ConcurrentVariant[] = ['spectra', 'singleSession', 'noReuse'];

/** One repetition of one variant. */
export interface VariantRun extends RunCounts {
  hits: number;
  dataApiRequests: number;
  dynamodbRequests: number;
  lambdaInvocations: number;
  transitions: number;
  wallMs: number;
  /** CPU this process (the whole local stack but PostgreSQL) spent during the run. */
  cpuMs: number;
  misses: MissBreakdown;
  failures: Record<string, number>;
  /** Each query's path and time per state, for {@link latencyBreakdown}. */
  samples: QuerySample[];
}

/** One query's latency, how Acquire Session ended, and its time in each state. */
export interface QuerySample {
  path: string;
  reused: boolean;
  /**
   * One of the run's first queries, as many as run at once: they start together, before any
   * session exists, so each opens a session or waits for one.
   */
  firstWave: boolean;
  latencyMs: number;
  stateMs: Record<string, number>;
}

export function sampleOf(record: ExecutionRecord, firstWave: boolean): QuerySample {
  return {
    path: record.acquired ?? 'failed',
    reused: record.output?.sessionReused === true,
    firstWave,
    latencyMs: record.latencyMs,
    stateMs: record.stateMs,
  };
}

/**
 * Where the queries' time went, by path: every query, and the slowest 5% (at or above the p95 of
 * all of them), which is where a tail comes from.
 */
export function latencyBreakdown(samples: readonly QuerySample[]): LatencyBreakdown {
  const pathOf = (path: string, group: readonly QuerySample[]): LatencyPath => {
    const of = (pick: (sample: QuerySample) => number) => median(group.map(pick));
    const state = (name: string) => (sample: QuerySample) => sample.stateMs[name] ?? 0;
    const inStates = (sample: QuerySample) =>
      Object.values(sample.stateMs).reduce((sum, value) => sum + value, 0);
    return {
      path,
      queries: group.length,
      reused: group.filter((sample) => sample.reused).length,
      firstWave: group.filter((sample) => sample.firstWave).length,
      p50Ms: percentile(
        group.map((sample) => sample.latencyMs),
        50,
      ),
      p95Ms: percentile(
        group.map((sample) => sample.latencyMs),
        95,
      ),
      acquireMs: of(state(STATES.acquire)),
      submitMs: of(state(STATES.submit)),
      releaseMs: of(state(STATES.release)),
      fetchMs: of(state(STATES.fetch)),
      otherMs: of((sample) => sample.latencyMs - inStates(sample)),
    };
  };
  const byPath = (group: readonly QuerySample[]): LatencyPath[] => {
    if (group.length === 0) return [];
    const paths = [...new Set(group.map((sample) => sample.path))].sort();
    return [
      pathOf('all', group),
      ...paths.map((path) =>
        pathOf(
          path,
          group.filter((sample) => sample.path === path),
        ),
      ),
    ];
  };
  if (samples.length === 0) return { all: [], tail: [] };
  const p95 = percentile(
    samples.map((sample) => sample.latencyMs),
    95,
  );
  return {
    all: byPath(samples),
    tail: byPath(samples.filter((sample) => sample.latencyMs >= p95)),
  };
}

/**
 * Why each query that did not reuse a session missed. Cold: the tenant's first query in start
 * order. Rejected: it was handed a busy session and had to open a new one. Concurrency: another
 * query of the same tenant was in flight when it started, so the idle sessions were taken.
 */
export function classifyMisses(
  queries: { tenantId: string; record: ExecutionRecord }[],
  variant: ConcurrentVariant,
): MissBreakdown {
  const misses: MissBreakdown = { cold: 0, concurrency: 0, rejected: 0, byDesign: 0, other: 0 };
  const byStart = [...queries].sort((a, b) => a.record.startMs - b.record.startMs);
  const seen = new Set<string>();
  for (const query of byStart) {
    const first = !seen.has(query.tenantId);
    seen.add(query.tenantId);
    if (query.record.output?.sessionReused === true) continue;
    if (variant === 'noReuse') misses.byDesign++;
    else if (query.record.states.includes(STATES.invalidate)) misses.rejected++;
    else if (first) misses.cold++;
    else if (
      queries.some(
        (other) =>
          other !== query &&
          other.tenantId === query.tenantId &&
          other.record.startMs <= query.record.startMs &&
          other.record.stopMs > query.record.startMs,
      )
    )
      misses.concurrency++;
    else misses.other++;
  }
  return misses;
}

/**
 * The most sessions open at once: per database user (the largest of them), and in all. Each
 * session is open from its creation to its close (or now, if it is still open).
 */
export function largestOpenAtOnce(
  sessions: { dbUser: string; openedMs: number; closedMs: number }[],
): { perUser: number; total: number } {
  const most = (list: typeof sessions) => {
    const events = list.flatMap((s) => [
      { at: s.openedMs, change: 1 },
      { at: s.closedMs, change: -1 },
    ]);
    // A close at the same instant as an open is counted first: the two were not open together.
    events.sort((a, b) => a.at - b.at || a.change - b.change);
    let open = 0;
    let peak = 0;
    for (const event of events) {
      open += event.change;
      peak = Math.max(peak, open);
    }
    return peak;
  };
  const byUser = new Map<string, typeof sessions>();
  for (const session of sessions)
    byUser.set(session.dbUser, [...(byUser.get(session.dbUser) ?? []), session]);
  return {
    perUser: Math.max(0, ...[...byUser.values()].map(most)),
    total: most(sessions),
  };
}

/** Medians over the repetitions of one variant, with their ranges. */
export function summarize(runs: VariantRun[]): ConcurrentVariantResult {
  const of = (pick: (run: VariantRun) => number) => runs.map(pick);
  const med = (pick: (run: VariantRun) => number) => median(of(pick));
  const perQuery = (pick: (run: VariantRun) => number) => med((run) => pick(run) / run.queries);
  const hitRate = (run: VariantRun) => run.hits / run.queries;
  const qps = (run: VariantRun) => run.queries / (run.wallMs / 1000);
  return {
    queries: med((run) => run.queries),
    hitRate: med(hitRate),
    busyRejections: med((run) => run.busyRejections),
    queriesRejected: med((run) => run.queriesRejected),
    failed: med((run) => run.failed),
    sessionsOpened: med((run) => run.sessionsOpened),
    p50Ms: med((run) => run.p50Ms),
    p95Ms: med((run) => run.p95Ms),
    p99Ms: med((run) => run.p99Ms),
    largestPool: Math.max(...of((run) => run.largestPool)),
    largestTotal: Math.max(...of((run) => run.largestTotal)),
    dataApiRequestsPerQuery: perQuery((run) => run.dataApiRequests),
    dynamodbRequestsPerQuery: perQuery((run) => run.dynamodbRequests),
    lambdaInvocationsPerQuery: perQuery((run) => run.lambdaInvocations),
    transitionsPerQuery: perQuery((run) => run.transitions),
    poolExhaustedRetries: med((run) => run.poolExhaustedRetries),
    queriesPerSecond: med(qps),
    cpuMsPerQuery: perQuery((run) => run.cpuMs),
    failuresByError: runs.reduce<Record<string, number>>((total, run) => {
      for (const [error, count] of Object.entries(run.failures))
        total[error] = (total[error] ?? 0) + count;
      return total;
    }, {}),
    misses: {
      cold: med((run) => run.misses.cold),
      concurrency: med((run) => run.misses.concurrency),
      rejected: med((run) => run.misses.rejected),
      byDesign: med((run) => run.misses.byDesign),
      other: med((run) => run.misses.other),
    },
    breakdown: latencyBreakdown(runs.flatMap((run) => run.samples)),
    spread: {
      hitRate: spreadOf(of(hitRate)),
      busyRejections: spreadOf(of((run) => run.busyRejections)),
      sessionsOpened: spreadOf(of((run) => run.sessionsOpened)),
      p50Ms: spreadOf(of((run) => run.p50Ms)),
      p95Ms: spreadOf(of((run) => run.p95Ms)),
      queriesPerSecond: spreadOf(of(qps)),
    },
  };
}
