import type {
  BenchResults,
  ConcurrentVariantResult,
  LatencyPath,
  VariantResults,
} from '../model.ts';
import { int, msOf, nameOf, num, range, rate, table } from './format.ts';

/** Sections 4 and 5, the session pool: the concurrent workload and the pool under pressure, with notes written from the figures. */

export function concurrentSection(variants: VariantResults): string {
  const entries = Object.entries(variants) as [string, ConcurrentVariantResult][];
  const row = (label: string, pick: (v: ConcurrentVariantResult) => string) => [
    label,
    ...entries.map(([, v]) => pick(v)),
  ];
  return table(
    ['Measure', ...entries.map(([variant]) => nameOf(variant))],
    [
      row('Queries (failed)', (v) => `${int(v.queries)} (${int(v.failed)})`),
      row('Session hit rate', (v) => `${rate(v.hitRate)} (${range(v.spread.hitRate, rate)})`),
      row(
        'Misses: cold / concurrency / refused session / by design / other',
        (v) =>
          `${int(v.misses.cold)} / ${int(v.misses.concurrency)} / ${int(v.misses.rejected)} / ${int(v.misses.byDesign)} / ${int(v.misses.other)}`,
      ),
      row(
        'Busy rejections (Data API)',
        (v) => `${int(v.busyRejections)} (${range(v.spread.busyRejections)})`,
      ),
      row('Queries that had to invalidate their session', (v) => int(v.queriesRejected)),
      row('Sessions opened', (v) => `${int(v.sessionsOpened)} (${range(v.spread.sessionsOpened)})`),
      row('Largest pool: most sessions of one tenant open at once (any run)', (v) =>
        int(v.largestPool),
      ),
      row('Most sessions of every tenant open at once (any run)', (v) => int(v.largestTotal)),
      row('Acquire retried: pool at its cap', (v) => int(v.poolExhaustedRetries)),
      row('p50 latency', (v) => `${msOf(v.p50Ms)} (${range(v.spread.p50Ms)})`),
      row('p95 latency', (v) => `${msOf(v.p95Ms)} (${range(v.spread.p95Ms)})`),
      row('p99 latency', (v) => msOf(v.p99Ms)),
      row('Throughput', (v) => `${num(v.queriesPerSecond)} queries/s`),
      row('CPU per query (this process: functions, Step Functions, DynamoDB, Data API)', (v) =>
        msOf(v.cpuMsPerQuery),
      ),
      row('Share of one core that CPU took', (v) => `${Math.round(coreShare(v) * 100)}%`),
      row('Data API requests per query', (v) => num(v.dataApiRequestsPerQuery, 2)),
      row('DynamoDB requests per query', (v) => num(v.dynamodbRequestsPerQuery, 2)),
      row('Lambda invocations per query', (v) => num(v.lambdaInvocationsPerQuery, 2)),
      row('State transitions per query', (v) => num(v.transitionsPerQuery, 2)),
    ],
  );
}

const PATH_NAMES: Record<string, string> = {
  all: 'every query',
  leased: 'leased at Acquire (a hit)',
  race: 'every session leased: raced a session given back against a new one',
  open: 'none in the pool: opened a session',
  sessionless: 'no slot: ran without a session',
  failed: 'failed in Acquire',
};

/**
 * Where Spectra's queries spent their time, by how Acquire Session ended and by state: medians
 * over every repetition, for every query and for the slowest 5%, where the p95 comes from.
 */
export function breakdownSection(variant: ConcurrentVariantResult, concurrency: number): string {
  const { breakdown } = variant;
  if (!breakdown || breakdown.all.length === 0) return '';
  const rows = (part: string, paths: LatencyPath[]) =>
    paths.map((path) => [
      part,
      PATH_NAMES[path.path] ?? path.path,
      `${int(path.queries)} (${int(path.reused)} reused)`,
      int(path.firstWave),
      msOf(path.p50Ms),
      msOf(path.p95Ms),
      msOf(path.acquireMs),
      msOf(path.submitMs),
      msOf(path.releaseMs),
      msOf(path.fetchMs),
      msOf(path.otherMs),
    ]);
  return `Where Spectra's time went, by how Acquire Session ended (queries of every repetition; the states are their medians, \`between states\` the rest of the latency). \`In a first wave\`: among the first ${concurrency} queries of a run, which start together before any session exists, so that each opens a session or waits for one:

${table(
  [
    'Queries',
    'Path',
    'Count',
    'In a first wave',
    'p50',
    'p95',
    'Acquire Session',
    'Submit Query',
    'Release Session',
    'Fetch Results',
    'between states',
  ],
  [...rows('all', breakdown.all), ...rows('slowest 5%', breakdown.tail)],
)}`;
}

export function pressureIntro(results: BenchResults): string {
  const { burst, manyTenants, maxSessionsTotal } = results.meta.plan.pressure;
  const config = results.meta.configuration;
  return `The same three designs, each from cold, under two loads a real tenant produces. **A burst:** ${burst.queries} queries (\`${burst.sql}\`) of one tenant started at once, ×${burst.repetitions}: with SPECTRA_MAX_SESSIONS_PER_TENANT = ${config.SPECTRA_MAX_SESSIONS_PER_TENANT}, Spectra runs ${config.SPECTRA_MAX_SESSIONS_PER_TENANT} of them at a time, and the rest wait for a session to come back (Acquire waits up to SPECTRA_ACQUIRE_WAIT_MILLISECONDS = ${config.SPECTRA_ACQUIRE_WAIT_MILLISECONDS} ms, then fails with SessionPoolExhaustedError, which the state machine retries with backoff). **Many tenants:** ${manyTenants.queries} queries (\`${manyTenants.sql}\`) of ${manyTenants.tenants} tenants (Zipf s = ${manyTenants.zipfExponent}, seed ${manyTenants.seed}), ${manyTenants.concurrency} at once, ×${manyTenants.repetitions}, with SPECTRA_MAX_SESSIONS_TOTAL = ${maxSessionsTotal}, below the one session each tenant drawn would open unchecked: past it, a query runs without a session. The largest pool is measured on the Data API, from each session's open and close times: the sessions of one tenant open at the same time, whether the pool holds them or not.`;
}

export function pressureNotes(results: BenchResults): string {
  const { burst, manyTenants } = results.pressure;
  const config = results.meta.configuration;
  return [
    `- **The caps hold:** in the burst, Spectra's largest pool was ${int(burst.spectra.largestPool)} (cap ${config.SPECTRA_MAX_SESSIONS_PER_TENANT}), against ${int(burst.noReuse.largestPool)} sessions of the tenant open at once without reuse and ${int(burst.singleSession.largestPool)} for the single cached session; with many tenants, at most ${int(manyTenants.spectra.largestTotal)} sessions were open at once over every tenant (SPECTRA_MAX_SESSIONS_TOTAL = ${config.SPECTRA_MAX_SESSIONS_TOTAL}), against ${int(manyTenants.noReuse.largestTotal)} without reuse.`,
    `- **What a cap costs:** a burst larger than the cap queues behind it, so its tail is longer than opening ${int(burst.noReuse.largestPool)} sessions at once (p95 ${msOf(burst.spectra.p95Ms)} against ${msOf(burst.noReuse.p95Ms)}); ${int(burst.spectra.poolExhaustedRetries)} Acquire retries at the cap, ${int(burst.spectra.failed)} executions failed (${
      Object.entries(burst.spectra.failuresByError)
        .map(([error, count]) => `${count} ${error}`)
        .join(', ') || 'none'
    }).`,
  ].join('\n');
}

/** How much of one core the benchmark's process used: near 100% means it was CPU-bound. */
const coreShare = (v: ConcurrentVariantResult) => (v.cpuMsPerQuery * v.queriesPerSecond) / 1000;

/** What the figures mean, written from them: the composition of Spectra's misses, and saturation. */
export function concurrentNotes(results: BenchResults): string {
  const { spectra, singleSession } = results.variants;
  const c = results.meta.plan.concurrent;
  const misses = spectra.misses;
  const total = misses.cold + misses.concurrency + misses.rejected + misses.other;
  const notes = [
    `- **Spectra's misses** (${int(total)} of ${int(spectra.queries)}): ${int(misses.cold)} cold (each tenant's first query; with ${c.tenants} tenants the best possible hit rate is ${rate(1 - misses.cold / spectra.queries)}), ${int(misses.concurrency)} concurrency (another query of the tenant was in flight and every session of its pool was leased: Submit Query opened a session while it waited for one to come back, and the new one was ready first), ${int(misses.other)} other. A query that finds every session leased below the cap opens one beside its wait even when a session then comes back first; the new one joins the pool, so sessions opened (${int(spectra.sessionsOpened)}) can exceed the misses: a tenant's pool grows to what its concurrency needs, at most SPECTRA_MAX_SESSIONS_PER_TENANT = ${results.meta.configuration.SPECTRA_MAX_SESSIONS_PER_TENANT} (at the cap Acquire waits up to SPECTRA_ACQUIRE_WAIT_MILLISECONDS = ${results.meta.configuration.SPECTRA_ACQUIRE_WAIT_MILLISECONDS ?? 0} ms for a session to come back, then fails and the state machine retries, ${int(spectra.poolExhaustedRetries)} times here).`,
    `- **The single cached session** hands a busy session to concurrent queries of a tenant: ${int(singleSession.busyRejections)} statements were refused with \`Session is not available\` and ${int(singleSession.queriesRejected)} executions had to invalidate the session and open another (${int(singleSession.sessionsOpened)} sessions opened in all; the ones it overwrote stay open on the Data API until their keep-alive ends).`,
  ];
  const saturated = Object.values(results.variants).some((v) => coreShare(v) > 0.8);
  if (saturated) {
    notes.push(
      `- **CPU-bound:** the benchmark's process (every function, the Step Functions engine, DynamoDB and the Data API emulator run in it, on one event loop) used ${Object.values(
        results.variants,
      )
        .map((v) => `${Math.round(coreShare(v) * 100)}%`)
        .join(
          ', ',
        )} of a core. With ${c.concurrency} queries always in flight, latency is then about ${c.concurrency} ÷ throughput, so the p50/p95 above measure the local stack's CPU per query more than each design's waits; the sequential phase (section 3) shows those waits without contention.`,
    );
  }
  return notes.join('\n');
}
