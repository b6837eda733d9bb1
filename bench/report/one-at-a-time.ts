import type { BenchResults } from '../model.ts';
import { ratio } from '../stats.ts';
import { msOf, nameOf, num, range, table, times } from './format.ts';

/** Sections 1 to 3, the phases that run one query at a time: one execution's cost, polling, queries in a row. */

export function perExecutionSection(results: BenchResults): string {
  return table(
    ['Query', 'State transitions', 'Lambda invocations', 'DynamoDB requests', 'Data API requests'],
    results.perExecution.byDuration.map((row) => [
      `${row.durationS} s`,
      num(row.transitions),
      num(row.lambdaInvocations),
      num(row.dynamodbRequests),
      num(row.dataApiRequests),
    ]),
  );
}

export function pollingSection(results: BenchResults): string {
  return table(
    [
      'Query',
      'Variant',
      'Transitions',
      'Detection delay (median)',
      'Detection delay (range)',
      'End to end',
      'Lambda',
      'DynamoDB',
      'Data API',
      'Runs',
    ],
    results.polling.map((row) => [
      `${row.durationS} s${row.durationsS.length > 1 && row.durationsS.some((d) => d !== row.durationS) ? ` (${row.durationsS.join(', ')})` : ''}`,
      nameOf(row.variant),
      num(row.transitions),
      msOf(row.detectionDelayMs),
      range(row.spread.detectionDelayMs),
      msOf(row.latencyMs),
      num(row.lambdaInvocations),
      num(row.dynamodbRequests),
      num(row.dataApiRequests),
      row.spread.transitions.runs,
    ]),
  );
}

export function sequentialSection(results: BenchResults): string {
  const { sequential } = results;
  return table(
    ['Query #', 'Spectra (reuse)', 'No reuse', 'Spectra ÷ no reuse'],
    sequential.withReuse.map((withReuse, index) => {
      const without = sequential.withoutReuse[index] as number;
      return [index + 1, msOf(withReuse), msOf(without), times(ratio(withReuse, without))];
    }),
  );
}
