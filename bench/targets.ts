import type { BenchResults, TargetCheck } from './model.ts';
import { round } from './stats.ts';

/**
 * The targets Spectra's claims rest on, checked against a run's results. A target whose phase
 * did not run (the 60-second query in quick mode) is reported as not measured (`met: null`).
 */

export const LONG_QUERY_S = 60;
export const BUNDLE_MAX_BYTES = 1_000_000;
export const INIT_MAX_MS = 300;

/** The concurrent workload's DynamoDB requests per query before the pool's slots and race. */
export const DYNAMODB_PER_QUERY_BEFORE = 7.39;

export function checkTargets(results: Omit<BenchResults, 'targets'>): TargetCheck[] {
  const { spectra, singleSession, noReuse } = results.variants;
  const { burst, manyTenants } = results.pressure;
  const short = results.perExecution.shortQuery;
  const perTenant = Number(results.meta.configuration.SPECTRA_MAX_SESSIONS_PER_TENANT);
  const total = Number(results.meta.configuration.SPECTRA_MAX_SESSIONS_TOTAL);
  const workloads = [
    ['concurrent', spectra],
    ['burst', burst.spectra],
    ['many tenants', manyTenants.spectra],
  ] as const;
  const p95Ratio = (of: { spectra: { p95Ms: number }; noReuse: { p95Ms: number } }) =>
    round(of.spectra.p95Ms / of.noReuse.p95Ms, 2);
  const checks: TargetCheck[] = [
    {
      id: 'pressure-largest-pool',
      description:
        'Every workload: no tenant ever has more Data API sessions open at once than its cap (SPECTRA_MAX_SESSIONS_PER_TENANT)',
      target: `largest pool ≤ ${perTenant} in every run`,
      actual: workloads.map(([name, v]) => `${name} ${v.largestPool}`).join(', '),
      met: workloads.every(([, v]) => v.largestPool <= perTenant),
    },
    {
      id: 'pressure-total-cap',
      description:
        'Many tenants: the sessions of every tenant together never exceed SPECTRA_MAX_SESSIONS_TOTAL',
      target: `at most ${total} open at once in every run`,
      actual: `${manyTenants.spectra.largestTotal} (no reuse had ${manyTenants.noReuse.largestTotal} open at once)`,
      met: manyTenants.spectra.largestTotal <= total,
    },
    {
      id: 'concurrent-p95-vs-no-reuse',
      description:
        'Concurrent workload: Spectra is no slower at the tail than opening a session for every query',
      target: 'p95 ≤ the no-reuse p95 of the same run',
      actual: `${Math.round(spectra.p95Ms)} ms vs ${Math.round(noReuse.p95Ms)} ms (${p95Ratio(results.variants)}×)`,
      met: spectra.p95Ms <= noReuse.p95Ms,
    },
    {
      id: 'many-tenants-p95-vs-no-reuse',
      description: 'Many tenants: the same, with the cluster at its cap',
      target: 'p95 ≤ the no-reuse p95 of the same run',
      actual: `${Math.round(manyTenants.spectra.p95Ms)} ms vs ${Math.round(manyTenants.noReuse.p95Ms)} ms (${p95Ratio(manyTenants)}×)`,
      met: manyTenants.spectra.p95Ms <= manyTenants.noReuse.p95Ms,
    },
    {
      id: 'concurrent-dynamodb-requests',
      description:
        'Concurrent workload: fewer DynamoDB requests per query than the pool that polled while it waited',
      target: `< ${DYNAMODB_PER_QUERY_BEFORE}`,
      actual: round(spectra.dynamodbRequestsPerQuery, 2).toString(),
      met: spectra.dynamodbRequestsPerQuery < DYNAMODB_PER_QUERY_BEFORE,
    },
    {
      id: 'concurrent-hit-rate',
      description: 'Concurrent workload: Spectra reuses a session for at least 95% of queries',
      target: 'hit rate ≥ 0.95',
      actual: `${spectra.hitRate.toFixed(3)} (runs ${spectra.spread.hitRate.min.toFixed(3)}–${spectra.spread.hitRate.max.toFixed(3)})`,
      met: spectra.hitRate >= 0.95,
    },
    {
      id: 'concurrent-busy-rejections',
      description:
        'Concurrent workload: no query of Spectra is refused for a busy session, while the single cached session is',
      target: 'Spectra 0 in every run; single session > 0',
      actual: `Spectra ${spectra.spread.busyRejections.max} (worst run), single session ${singleSession.busyRejections}`,
      met: spectra.spread.busyRejections.max === 0 && singleSession.busyRejections > 0,
    },
    {
      id: 'short-query-transitions',
      description: `A sub-second query (${short.durationS} s): state transitions`,
      target: '≤ 6',
      actual: String(short.transitions),
      met: short.transitions <= 6,
    },
    {
      id: 'short-query-data-api',
      description: `A sub-second query (${short.durationS} s): Data API requests`,
      target: '≤ 3',
      actual: String(short.dataApiRequests),
      met: short.dataApiRequests <= 3,
    },
  ];

  const long = (variant: string) =>
    results.polling.find((row) => row.durationS === LONG_QUERY_S && row.variant === variant);
  const spectraLong = long('spectra');
  const fixed5Long = long('fixed5s');
  checks.push(
    spectraLong && fixed5Long
      ? {
          id: 'long-query-transitions',
          description: `A ${LONG_QUERY_S}-second query: transitions against the fixed 5-second Wait loop`,
          target: '< 1/3 of the 5-second loop',
          actual: `${spectraLong.transitions} vs ${fixed5Long.transitions} (${round(spectraLong.transitions / fixed5Long.transitions, 2)}×)`,
          met: spectraLong.transitions < fixed5Long.transitions / 3,
        }
      : notMeasured(
          'long-query-transitions',
          `A ${LONG_QUERY_S}-second query: transitions against the fixed 5-second Wait loop`,
          '< 1/3 of the 5-second loop',
        ),
    spectraLong
      ? {
          id: 'long-query-detection',
          description: `A ${LONG_QUERY_S}-second query: median detection delay`,
          target: '< 1000 ms',
          actual: `${Math.round(spectraLong.detectionDelayMs)} ms (runs ${Math.round(spectraLong.spread.detectionDelayMs.min)}–${Math.round(spectraLong.spread.detectionDelayMs.max)})`,
          met: spectraLong.detectionDelayMs < 1000,
        }
      : notMeasured(
          'long-query-detection',
          `A ${LONG_QUERY_S}-second query: median detection delay`,
          '< 1000 ms',
        ),
  );

  checks.push(...resultsTargets(results));

  const largest = results.bundles.reduce((max, row) => Math.max(max, row.bytes), 0);
  const slowest = results.bundles.reduce((max, row) => Math.max(max, row.initMs), 0);
  const over = results.bundles
    .filter((row) => row.initMs >= INIT_MAX_MS)
    .map((row) => row.function);
  checks.push(
    {
      id: 'bundle-size',
      description: 'Every function bundle (index.mjs)',
      target: `< ${BUNDLE_MAX_BYTES.toLocaleString('en-US')} bytes`,
      actual: `largest ${largest.toLocaleString('en-US')} bytes`,
      met: results.bundles.length > 0 && largest < BUNDLE_MAX_BYTES,
    },
    {
      id: 'bundle-cold-init',
      description: 'Every function: cold initialisation (median of the fresh-process imports)',
      target: `< ${INIT_MAX_MS} ms`,
      actual: `slowest ${Math.round(slowest)} ms${over.length > 0 ? ` (${over.join(', ')})` : ''}`,
      met: results.bundles.length > 0 && slowest < INIT_MAX_MS,
    },
  );
  return checks;
}

/** The most FetchResults may hold above its idle footprint, whatever the result's size. */
export const FETCH_RESULTS_BUFFER_MB = 64;
export const MILLION = 1_000_000;

function resultsTargets(results: Omit<BenchResults, 'targets'>): TargetCheck[] {
  const cases = results.results?.cases ?? [];
  const memory = 'FetchResults memory: flat in the result size, a fixed buffer above idle';
  const memoryTarget = `every size written with V8's heap capped at ${FETCH_RESULTS_BUFFER_MB} MB, peak RSS above idle within ${FETCH_RESULTS_BUFFER_MB} MB of the smallest size's`;
  const smallest = cases[0]?.capped.peakRssAboveIdleMB ?? 0;
  const million = cases.find((row) => row.rows === MILLION);
  const speed = `FetchResults of ${MILLION.toLocaleString('en-US')} rows: no slower than the read-everything baseline`;
  return [
    cases.length > 0
      ? {
          id: 'results-memory-flat',
          description: memory,
          target: memoryTarget,
          actual: cases
            .map(
              (row) =>
                `${row.rows.toLocaleString('en-US')} rows: ${row.capped.rows === row.rows ? 'written' : 'NOT written'}, +${round(row.capped.peakRssAboveIdleMB, 1)} MB RSS (uncapped +${round(row.spectra.peakRssAboveIdleMB, 1)} MB; baseline +${round(row.baseline.peakRssAboveIdleMB, 1)} MB)`,
            )
            .join('; '),
          met: cases.every(
            (row) =>
              row.capped.oldSpaceMB <= FETCH_RESULTS_BUFFER_MB &&
              row.capped.rows === row.rows &&
              row.capped.peakRssAboveIdleMB - smallest <= FETCH_RESULTS_BUFFER_MB,
          ),
        }
      : {
          id: 'results-memory-flat',
          description: memory,
          target: memoryTarget,
          actual: 'not measured',
          met: null,
        },
    million
      ? {
          id: 'results-million-speed',
          description: speed,
          target: 'time ≤ the baseline',
          actual: `${round(million.spectra.seconds, 2)} s vs ${round(million.baseline.seconds, 2)} s (${round(million.spectra.seconds / million.baseline.seconds, 2)}×)`,
          met: million.spectra.seconds <= million.baseline.seconds,
        }
      : {
          id: 'results-million-speed',
          description: speed,
          target: 'time ≤ the baseline',
          actual: 'not measured',
          met: null,
          note: 'no 1,000,000-row case in this run (full mode only)',
        },
  ];
}

function notMeasured(id: string, description: string, target: string): TargetCheck {
  return {
    id,
    description,
    target,
    actual: 'not measured',
    met: null,
    note: `no ${LONG_QUERY_S}-second case in this run (full mode only)`,
  };
}
