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

/**
 * One row of the headline: a measure of each variant, shown by `show`, and, when `compared`,
 * Spectra's value as a ratio of each baseline's.
 */
function measureRow(
  measure: string,
  variants: VariantResults,
  pick: (variant: ConcurrentVariantResult) => number,
  show: (value: number) => string,
  compared = false,
): string[] {
  const spectra = pick(variants.spectra);
  const singleSession = pick(variants.singleSession);
  const noReuse = pick(variants.noReuse);
  return [
    measure,
    show(spectra),
    show(singleSession),
    show(noReuse),
    compared ? `${times(ratio(spectra, singleSession))} / ${times(ratio(spectra, noReuse))}` : '',
  ];
}

const perQuery = (value: number) => num(value, 2);

/** The headline's rows of the pool under pressure (section 5). */
function pressureHeadline(results: BenchResults): string[][] {
  const { burst, manyTenants } = results.pressure;
  const { queries } = results.meta.plan.pressure.burst;
  return [
    measureRow(
      `Burst of ${queries}: largest pool a tenant reached`,
      burst,
      (v) => v.largestPool,
      int,
    ),
    measureRow(`Burst of ${queries}: p95 latency`, burst, (v) => v.p95Ms, msOf, true),
    measureRow('Many tenants: most sessions open at once', manyTenants, (v) => v.largestTotal, int),
    measureRow('Many tenants: p95 latency', manyTenants, (v) => v.p95Ms, msOf, true),
  ];
}

export function headline(results: BenchResults): string {
  const { variants } = results;
  const rows: (string | number)[][] = [
    measureRow('Concurrent: session hit rate', variants, (v) => v.hitRate, rate),
    measureRow(
      'Concurrent: queries refused for a busy session',
      variants,
      (v) => v.busyRejections,
      int,
    ),
    measureRow('Concurrent: sessions opened', variants, (v) => v.sessionsOpened, int, true),
    measureRow('Concurrent: p50 latency', variants, (v) => v.p50Ms, msOf, true),
    measureRow('Concurrent: p95 latency', variants, (v) => v.p95Ms, msOf, true),
    measureRow('Concurrent: p99 latency', variants, (v) => v.p99Ms, msOf, true),
    measureRow('Concurrent: largest pool a tenant reached', variants, (v) => v.largestPool, int),
    ...pressureHeadline(results),
    measureRow(
      'Concurrent: Data API requests per query',
      variants,
      (v) => v.dataApiRequestsPerQuery,
      perQuery,
      true,
    ),
    measureRow(
      'Concurrent: DynamoDB requests per query',
      variants,
      (v) => v.dynamodbRequestsPerQuery,
      perQuery,
    ),
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
