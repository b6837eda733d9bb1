import { STATES } from '../../statemachine/definition.ts';
import { counterDelta, type ExecutionRecord } from '../harness.ts';
import type { LatencyPath, VariantResults, WorkloadPlan } from '../model.ts';
import { percentile, zipfSequence } from '../stats.ts';
import {
  CONCURRENT_VARIANTS,
  type ConcurrentVariant,
  classifyMisses,
  largestOpenAtOnce,
  latencyBreakdown,
  sampleOf,
  summarize,
  type VariantRun,
} from './concurrent-figures.ts';
import { mapLimit, ms, type PhaseContext, rotate } from './context.ts';

/**
 * Phases 4 and 5: workloads of many queries. N queries of T tenants, the tenant of each drawn
 * with Zipf-skewed frequencies from a fixed seed (every variant gets the same sequence), C in
 * flight at once (a closed loop: a query starts when one ends): the multi-tenant workload of
 * every day, one tenant's burst, and many tenants against the cluster's cap. Each variant starts
 * cold: the Data API's sessions are closed and the sessions table emptied before it runs.
 */

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
    samples: records.map((record, position) => sampleOf(record, position < concurrency)),
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
    `${path.path} ×${path.queries} (${path.reused} reused, ${path.firstWave} in the first wave) p50 ${ms(path.p50Ms)} p95 ${ms(path.p95Ms)}: ` +
    `acquire ${ms(path.acquireMs)}, submit ${ms(path.submitMs)}, release ${ms(path.releaseMs)}, ` +
    `fetch ${ms(path.fetchMs)}, between states ${ms(path.otherMs)}`
  );
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
