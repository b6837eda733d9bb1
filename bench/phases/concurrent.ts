import { STATES } from '../../statemachine/definition.ts';
import { counterDelta, type ExecutionRecord } from '../harness.ts';
import type {
  ConcurrentVariantResult,
  LatencyBreakdown,
  LatencyPath,
  MissBreakdown,
  VariantResults,
  WorkloadPlan,
} from '../model.ts';
import { median, percentile, spreadOf, zipfSequence } from '../stats.ts';
import { mapLimit, ms, type PhaseContext, rotate } from './context.ts';

/**
 * Phases 4 and 5: workloads of many queries. N queries of T tenants, the tenant of each drawn
 * with Zipf-skewed frequencies from a fixed seed (every variant gets the same sequence), C in
 * flight at once (a closed loop: a query starts when one ends): the multi-tenant workload of
 * every day, one tenant's burst, and many tenants against the cluster's cap. Each variant starts
 * cold: the Data API's sessions are closed and the sessions table emptied before it runs.
 */

export type ConcurrentVariant = 'spectra' | 'singleSession' | 'noReuse';
export const CONCURRENT_VARIANTS: ConcurrentVariant[] = ['spectra', 'singleSession', 'noReuse'];

export type WorkloadName = 'concurrent' | 'burst' | 'manyTenants';

const TENANT_PREFIX: Record<WorkloadName, string> = {
  concurrent: 'bench-t',
  burst: 'bench-burst-t',
  manyTenants: 'bench-many-t',
};

export const tenantIdOf = (index: number, workload: WorkloadName = 'concurrent') =>
  `${TENANT_PREFIX[workload]}${String(index + 1).padStart(2, '0')}`;

export interface Query {
  position: number;
  tenantId: string;
  /** The query's own SQL; default: the plan's. */
  sql?: string;
}

/** One repetition of one variant. */
export interface VariantRun {
  queries: number;
  hits: number;
  busyRejections: number;
  queriesRejected: number;
  failed: number;
  sessionsOpened: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  largestPool: number;
  largestTotal: number;
  dataApiRequests: number;
  dynamodbRequests: number;
  lambdaInvocations: number;
  transitions: number;
  poolExhaustedRetries: number;
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
  latencyMs: number;
  stateMs: Record<string, number>;
}

export function sampleOf(record: ExecutionRecord): QuerySample {
  return {
    path: record.acquired ?? 'failed',
    reused: record.output?.sessionReused === true,
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

/** Runs the workload once on `machine`, from cold; `variant` says how to classify its misses. */
export async function runVariant(
  context: PhaseContext,
  variant: ConcurrentVariant,
  machine: string,
  sequence: Query[],
  workload: WorkloadPlan = context.plan.concurrent,
): Promise<VariantRun> {
  const { harness, log } = context;
  const { concurrency, sql } = workload;
  await harness.coldStart();
  const runStartedAt = Date.now();
  const before = await harness.counters();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const arns = new Array<string>(sequence.length);
  let done = 0;
  const progressEvery = Math.max(1, Math.round(sequence.length / 5));
  await mapLimit(sequence, concurrency, async (query) => {
    arns[query.position] = await harness.run(machine, {
      tenantId: query.tenantId,
      sql: query.sql ?? sql,
    });
    done++;
    if (done % progressEvery === 0 && done < sequence.length)
      log(`    ${variant}: ${done}/${sequence.length} queries`);
  });
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const after = await harness.counters();
  const opened = largestOpenAtOnce(await harness.sessionsOpenedSince(runStartedAt));
  const delta = counterDelta(before, after);
  // Read back after the run, so that the reading takes nothing from the executions measured.
  const records = await mapLimit(arns, 8, (arn) => harness.record(arn));
  const queries = sequence.map((query) => ({
    tenantId: query.tenantId,
    record: records[query.position] as ExecutionRecord,
  }));

  const latencies = records.map((record) => record.latencyMs);
  const sum = (pick: (record: ExecutionRecord) => number) =>
    records.reduce((total, record) => total + pick(record), 0);
  return {
    queries: records.length,
    hits: records.filter((record) => record.output?.sessionReused === true).length,
    busyRejections: delta.busyRejections,
    queriesRejected: records.filter((record) => record.states.includes(STATES.invalidate)).length,
    failed: records.filter((record) => record.status !== 'SUCCEEDED').length,
    sessionsOpened: delta.sessionsOpened,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
    largestPool: opened.perUser,
    largestTotal: opened.total,
    dataApiRequests: delta.dataApiRequests,
    dynamodbRequests: delta.dynamodbRequests,
    lambdaInvocations: delta.lambdaInvocations,
    transitions: sum((record) => record.transitions),
    poolExhaustedRetries: sum((record) => record.taskErrors.SessionPoolExhaustedError ?? 0),
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    misses: classifyMisses(queries, variant),
    samples: records.map(sampleOf),
    failures: records.reduce<Record<string, number>>((counts, record) => {
      if (record.status !== 'SUCCEEDED') {
        const key = record.error ?? record.status;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      return counts;
    }, {}),
  };
}

/** One path of a breakdown as a log line's part. */
export function formatPath(path: LatencyPath): string {
  return (
    `${path.path} ×${path.queries} (${path.reused} reused) p50 ${ms(path.p50Ms)} p95 ${ms(path.p95Ms)}: ` +
    `acquire ${ms(path.acquireMs)}, submit ${ms(path.submitMs)}, release ${ms(path.releaseMs)}, ` +
    `fetch ${ms(path.fetchMs)}, between states ${ms(path.otherMs)}`
  );
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

/**
 * The workload's tenant sequence (the same for every variant), logged, with the tenants' database
 * users created first so that no variant's figures include their creation.
 */
export async function prepareWorkload(
  context: PhaseContext,
  workload: WorkloadPlan = context.plan.concurrent,
  name: WorkloadName = 'concurrent',
): Promise<Query[]> {
  const { harness, log } = context;
  const { tenants, queries, zipfExponent, seed } = workload;
  const sequence: Query[] = zipfSequence(tenants, zipfExponent, queries, seed).map(
    (rank, position) => ({ position, tenantId: tenantIdOf(rank, name) }),
  );
  const used = [...new Set(sequence.map((query) => query.tenantId))].sort();
  const share =
    (used.length > 0 ? sequence.filter((q) => q.tenantId === used[0]).length : 0) / queries;
  log(
    `  workload: ${queries} queries of ${used.length} tenants (of ${tenants}; the busiest has ${Math.round(share * 100)}%), ${workload.concurrency} at once`,
  );
  await harness.createTenantUsers(used);

  return sequence;
}

/** Every variant under one workload, the repetitions rotating which runs first. */
export async function runWorkload(
  context: PhaseContext,
  workload: WorkloadPlan,
  name: WorkloadName,
): Promise<VariantResults> {
  const { machines, log } = context;
  const sequence = await prepareWorkload(context, workload, name);
  const machineOf: Record<ConcurrentVariant, string> = {
    spectra: machines.spectra,
    singleSession: machines.singleSession,
    noReuse: machines.noReuse,
  };
  const runs: Record<ConcurrentVariant, VariantRun[]> = {
    spectra: [],
    singleSession: [],
    noReuse: [],
  };
  for (let repetition = 0; repetition < workload.repetitions; repetition++) {
    for (const variant of rotate(CONCURRENT_VARIANTS, repetition)) {
      const label = `${name} · ${variant} · run ${repetition + 1}/${workload.repetitions}`;
      log(`  ${label}…`);
      const run = await runVariant(context, variant, machineOf[variant], sequence, workload);
      runs[variant].push(run);
      const m = run.misses;
      log(
        `  ${label}: hit rate ${(run.hits / run.queries).toFixed(3)} ` +
          `(misses: ${m.cold} cold, ${m.concurrency} concurrency, ${m.rejected} rejected, ${m.byDesign} by design, ${m.other} other), ` +
          `${run.busyRejections} busy rejections, ${run.failed} failed${run.failed > 0 ? ` ${JSON.stringify(run.failures)}` : ''}, ${run.sessionsOpened} sessions opened, ` +
          `largest pool ${run.largestPool}, ${run.largestTotal} open at once, ` +
          `p50 ${ms(run.p50Ms)}, p95 ${ms(run.p95Ms)}, p99 ${ms(run.p99Ms)}, ${(run.queries / (run.wallMs / 1000)).toFixed(1)} queries/s, ` +
          `${(run.dynamodbRequests / run.queries).toFixed(2)} DynamoDB requests per query, ` +
          `${ms(run.cpuMs / run.queries)} CPU per query, ${run.poolExhaustedRetries} acquire retries at the pool's cap`,
      );
      const breakdown = latencyBreakdown(run.samples);
      for (const [part, paths] of [
        ['every query', breakdown.all],
        ['the slowest 5%', breakdown.tail],
      ] as const)
        log(`    ${part}: ${paths.map(formatPath).join('; ')}`);
    }
  }
  return {
    spectra: summarize(runs.spectra),
    singleSession: summarize(runs.singleSession),
    noReuse: summarize(runs.noReuse),
  };
}

export function runConcurrent(context: PhaseContext): Promise<VariantResults> {
  return runWorkload(context, context.plan.concurrent, 'concurrent');
}
