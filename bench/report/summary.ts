import type {
  BenchResults,
  ConcurrentVariantResult,
  PollingRow,
  VariantResults,
} from '../model.ts';
import { ratio } from '../stats.ts';
import { int, msOf, nameOf, num, rate, table, times } from './format.ts';

/** The report's top: the headline table of Spectra against its baselines, and the targets. */

function pollingRow(results: BenchResults, durationS: number, variant: string) {
  return results.polling.find((row) => row.durationS === durationS && row.variant === variant);
}

/** The headline's rows of the pool under pressure (section 5). */
function pressureHeadline(results: BenchResults): (string | number)[][] {
  const { burst, manyTenants } = results.pressure;
  const { queries } = results.meta.plan.pressure.burst;
  const across = (pick: (v: ConcurrentVariantResult) => string, of: VariantResults) => [
    pick(of.spectra),
    pick(of.singleSession),
    pick(of.noReuse),
  ];
  return [
    [
      `Burst of ${queries}: largest pool a tenant reached`,
      ...across((v) => int(v.largestPool), burst),
      '',
    ],
    [
      `Burst of ${queries}: p95 latency`,
      ...across((v) => msOf(v.p95Ms), burst),
      `${times(ratio(burst.spectra.p95Ms, burst.singleSession.p95Ms))} / ${times(ratio(burst.spectra.p95Ms, burst.noReuse.p95Ms))}`,
    ],
    [
      'Many tenants: most sessions open at once',
      ...across((v) => int(v.largestTotal), manyTenants),
      '',
    ],
    [
      'Many tenants: p95 latency',
      ...across((v) => msOf(v.p95Ms), manyTenants),
      `${times(ratio(manyTenants.spectra.p95Ms, manyTenants.singleSession.p95Ms))} / ${times(ratio(manyTenants.spectra.p95Ms, manyTenants.noReuse.p95Ms))}`,
    ],
  ];
}

export function headline(results: BenchResults): string {
  const { spectra, singleSession, noReuse } = results.variants;
  const rows: (string | number)[][] = [
    [
      'Concurrent: session hit rate',
      rate(spectra.hitRate),
      rate(singleSession.hitRate),
      rate(noReuse.hitRate),
      '',
    ],
    [
      'Concurrent: queries refused for a busy session',
      int(spectra.busyRejections),
      int(singleSession.busyRejections),
      int(noReuse.busyRejections),
      '',
    ],
    [
      'Concurrent: sessions opened',
      int(spectra.sessionsOpened),
      int(singleSession.sessionsOpened),
      int(noReuse.sessionsOpened),
      `${times(ratio(spectra.sessionsOpened, singleSession.sessionsOpened))} / ${times(ratio(spectra.sessionsOpened, noReuse.sessionsOpened))}`,
    ],
    [
      'Concurrent: p50 latency',
      msOf(spectra.p50Ms),
      msOf(singleSession.p50Ms),
      msOf(noReuse.p50Ms),
      `${times(ratio(spectra.p50Ms, singleSession.p50Ms))} / ${times(ratio(spectra.p50Ms, noReuse.p50Ms))}`,
    ],
    [
      'Concurrent: p95 latency',
      msOf(spectra.p95Ms),
      msOf(singleSession.p95Ms),
      msOf(noReuse.p95Ms),
      `${times(ratio(spectra.p95Ms, singleSession.p95Ms))} / ${times(ratio(spectra.p95Ms, noReuse.p95Ms))}`,
    ],
    [
      'Concurrent: p99 latency',
      msOf(spectra.p99Ms),
      msOf(singleSession.p99Ms),
      msOf(noReuse.p99Ms),
      `${times(ratio(spectra.p99Ms, singleSession.p99Ms))} / ${times(ratio(spectra.p99Ms, noReuse.p99Ms))}`,
    ],
    [
      'Concurrent: largest pool a tenant reached',
      int(spectra.largestPool),
      int(singleSession.largestPool),
      int(noReuse.largestPool),
      '',
    ],
    ...pressureHeadline(results),
    [
      'Concurrent: Data API requests per query',
      num(spectra.dataApiRequestsPerQuery, 2),
      num(singleSession.dataApiRequestsPerQuery, 2),
      num(noReuse.dataApiRequestsPerQuery, 2),
      `${times(ratio(spectra.dataApiRequestsPerQuery, singleSession.dataApiRequestsPerQuery))} / ${times(ratio(spectra.dataApiRequestsPerQuery, noReuse.dataApiRequestsPerQuery))}`,
    ],
    [
      'Concurrent: DynamoDB requests per query',
      num(spectra.dynamodbRequestsPerQuery, 2),
      num(singleSession.dynamodbRequestsPerQuery, 2),
      num(noReuse.dynamodbRequestsPerQuery, 2),
      '',
    ],
  ];
  const sequential = results.sequential.summary;
  rows.push([
    `In a row: latency after the first query (+${results.sequential.openSessionLatencyMs} ms per session opened)`,
    msOf(sequential.withReuse.restMedianMs),
    '',
    msOf(sequential.withoutReuse.restMedianMs),
    `– / ${times(ratio(sequential.withReuse.restMedianMs, sequential.withoutReuse.restMedianMs))}`,
  ]);
  const first = `| Measure | Spectra | One cached session per tenant | No reuse | Spectra ÷ baselines |\n| --- | --- | --- | --- | --- |\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}`;

  const durations = [...new Set(results.polling.map((row) => row.durationS))];
  const fixedVariants = [...new Set(results.polling.map((row) => row.variant))].filter(
    (variant) => variant !== 'spectra',
  );
  const pollingRows = durations.flatMap((durationS) => {
    const spectraRow = pollingRow(results, durationS, 'spectra') as PollingRow;
    const baselines = fixedVariants.map((variant) => pollingRow(results, durationS, variant));
    return [
      [
        `${durationS} s query: state transitions`,
        int(spectraRow.transitions),
        ...baselines.map((row) => (row ? int(row.transitions) : '')),
        baselines
          .map((row) => times(row ? ratio(spectraRow.transitions, row.transitions) : null))
          .join(' / '),
      ],
      [
        `${durationS} s query: detection delay`,
        msOf(spectraRow.detectionDelayMs),
        ...baselines.map((row) => (row ? msOf(row.detectionDelayMs) : '')),
        baselines
          .map((row) =>
            times(row ? ratio(spectraRow.detectionDelayMs, row.detectionDelayMs) : null),
          )
          .join(' / '),
      ],
    ];
  });
  const second = table(
    ['Measure', 'Spectra', ...fixedVariants.map(nameOf), 'Spectra ÷ baselines'],
    pollingRows,
  );
  return `${first}\n\n${second}`;
}

export function targetsSection(results: BenchResults): string {
  return table(
    ['Target', 'Required', 'Measured', 'Met'],
    results.targets.map((t) => [
      t.description,
      t.target,
      t.actual,
      t.met === null ? `not measured${t.note ? ` (${t.note})` : ''}` : t.met ? 'yes' : '**no**',
    ]),
  );
}
