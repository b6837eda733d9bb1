import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ResultsCase, ResultsMeasurement, ResultsResult } from '../model.ts';
import { median } from '../stats.ts';
import { type PhaseContext, rotate } from './context.ts';

/**
 * Phase 6: large results. For each size, the query runs once through Spectra's state machine (the
 * end-to-end time a caller sees, result written to the bucket included); then FetchResults reads
 * that same statement's result again in a process of its own, as Spectra does it (pages streamed
 * into a multipart upload) and as the baseline does it (every page in memory, one PutObject), so
 * that each one's memory is its own and both read the same bytes from the same Data API.
 */

const execFileAsync = promisify(execFile);
const CHILD = fileURLToPath(new URL('../fetch-results-child.ts', import.meta.url));
const RESULTS_SQL = (rows: number) =>
  `select g, md5(g::text) as hash from generate_series(1, ${rows}) g order by g`;

/**
 * V8's old space for the capped run of Spectra's FetchResults: the idle process (the SDK, its
 * clients, Powertools) holds about 20 MB of it, so 64 MB leaves a fixed 44 MB for the work.
 */
export const CAPPED_OLD_SPACE_MB = 64;

async function measure(
  variant: ResultsMeasurement['variant'],
  statementId: string,
  executionArn: string,
  nodeFlags: string[] = [],
): Promise<ResultsMeasurement> {
  const child = variant === 'spectra-capped' ? 'spectra' : variant;
  const run = await execFileAsync(
    process.execPath,
    [
      ...nodeFlags,
      '--expose-gc',
      '--import',
      'tsx',
      CHILD,
      JSON.stringify({ variant: child, statementId, executionArn }),
    ],
    { timeout: 30 * 60_000 },
  );
  const reading = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as Omit<
    ResultsMeasurement,
    'variant' | 'peakRssAboveIdleMB' | 'peakHeldAboveIdleMB' | 'megabytesPerSecond'
  >;
  const mb = (bytes: number) => bytes / 1e6;
  return {
    variant,
    ...reading,
    peakRssAboveIdleMB: mb(reading.peakRssBytes - reading.idleRssBytes),
    peakHeldAboveIdleMB: mb(reading.peakHeldBytes - reading.idleHeldBytes),
    megabytesPerSecond: mb(reading.uncompressedBytes) / reading.seconds,
  };
}

export async function runResults(context: PhaseContext): Promise<ResultsResult> {
  const { harness, plan, machines, log } = context;
  const cases: ResultsCase[] = [];
  for (const rows of plan.results.rows) {
    const executionArn = await harness.run(machines.spectra, {
      tenantId: 'acme',
      sql: RESULTS_SQL(rows),
    });
    const record = await harness.record(executionArn);
    const output = record.output as
      | { statementId?: string; result?: { rows: number; bytes: number } }
      | undefined;
    if (record.status !== 'SUCCEEDED' || output?.statementId === undefined)
      throw new Error(`The ${rows}-row query ended ${record.status}: ${record.error}`);
    const measurements: ResultsMeasurement[] = [];
    for (let repetition = 0; repetition < plan.results.repetitions; repetition++) {
      for (const variant of rotate(['spectra', 'baseline'] as const, repetition)) {
        const benchArn = executionArn.replace(/:[^:]+$/, `:bench-${variant}-${rows}-${repetition}`);
        measurements.push(await measure(variant, output.statementId, benchArn));
      }
    }
    // Not timed against the baseline: GC works harder in a small heap. It shows what FetchResults
    // holds is bounded: with more, V8 would stop it with "heap out of memory".
    const cappedArn = executionArn.replace(/:[^:]+$/, `:bench-spectra-capped-${rows}`);
    const capped = await measure('spectra-capped', output.statementId, cappedArn, [
      `--max-old-space-size=${CAPPED_OLD_SPACE_MB}`,
    ]);
    const summary = (variant: ResultsMeasurement['variant']) => {
      const runs = measurements.filter((m) => m.variant === variant);
      return {
        seconds: median(runs.map((m) => m.seconds)),
        megabytesPerSecond: median(runs.map((m) => m.megabytesPerSecond)),
        peakRssAboveIdleMB: Math.max(...runs.map((m) => m.peakRssAboveIdleMB)),
        peakHeldAboveIdleMB: Math.max(...runs.map((m) => m.peakHeldAboveIdleMB)),
      };
    };
    const row: ResultsCase = {
      rows,
      uncompressedMB: (measurements[0]?.uncompressedBytes ?? 0) / 1e6,
      objectMB: (output.result?.bytes ?? 0) / 1e6,
      endToEndMs: record.latencyMs,
      spectra: summary('spectra'),
      baseline: summary('baseline'),
      capped: {
        oldSpaceMB: CAPPED_OLD_SPACE_MB,
        seconds: capped.seconds,
        rows: capped.rows,
        peakRssAboveIdleMB: capped.peakRssAboveIdleMB,
        peakHeldAboveIdleMB: capped.peakHeldAboveIdleMB,
      },
      runs: [...measurements, capped],
    };
    cases.push(row);
    log(
      `  ${rows.toLocaleString('en-US').padStart(9)} rows (${row.uncompressedMB.toFixed(1)} MB): end to end ${(row.endToEndMs / 1000).toFixed(1)} s; ` +
        `FetchResults ${row.spectra.seconds.toFixed(2)} s, +${row.spectra.peakRssAboveIdleMB.toFixed(0)} MB RSS; ` +
        `baseline ${row.baseline.seconds.toFixed(2)} s, +${row.baseline.peakRssAboveIdleMB.toFixed(0)} MB RSS; ` +
        `heap capped at ${CAPPED_OLD_SPACE_MB} MB: ${capped.rows.toLocaleString('en-US')} rows, +${capped.peakRssAboveIdleMB.toFixed(0)} MB RSS`,
    );
  }
  return { sql: RESULTS_SQL(0).replace('0)', 'N)'), cases };
}
