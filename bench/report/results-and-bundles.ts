import type { BenchResults } from '../model.ts';
import { ratio } from '../stats.ts';
import { int, msOf, num, table, times } from './format.ts';

/** Sections 6 and 7: large results through FetchResults, and the functions' bundles. */

export function bundlesSection(results: BenchResults): string {
  return table(
    [
      'Function',
      'index.mjs (bytes)',
      'source map (bytes)',
      'Cold init (median)',
      'Runs (ms)',
      'Whole process (median)',
    ],
    results.bundles.map((row) => [
      row.function,
      int(row.bytes),
      int(row.mapBytes),
      msOf(row.initMs),
      row.initRunsMs.map((value) => int(value)).join(', '),
      msOf(row.processMs),
    ]),
  );
}

export function resultsSection(results: BenchResults): string {
  const cases = results.results?.cases ?? [];
  if (cases.length === 0) return 'Not run.';
  const mb = (value: number) => `${num(value, 1)} MB`;
  return table(
    [
      'rows',
      'JSON Lines / gzip',
      'end to end (Spectra)',
      'FetchResults: Spectra',
      'baseline',
      'time ratio',
      'MB/s: Spectra',
      'baseline',
      'peak RSS above idle: Spectra',
      'baseline',
      'peak heap + buffers above idle: Spectra',
      'baseline',
      `Spectra, heap capped at ${cases[0]?.capped.oldSpaceMB ?? 0} MB: rows written, peak RSS above idle`,
    ],
    cases.map((row) => [
      int(row.rows),
      `${mb(row.uncompressedMB)} / ${mb(row.objectMB)}`,
      `${num(row.endToEndMs / 1000, 2)} s`,
      `${num(row.spectra.seconds, 2)} s`,
      `${num(row.baseline.seconds, 2)} s`,
      times(ratio(row.spectra.seconds, row.baseline.seconds)),
      num(row.spectra.megabytesPerSecond, 1),
      num(row.baseline.megabytesPerSecond, 1),
      mb(row.spectra.peakRssAboveIdleMB),
      mb(row.baseline.peakRssAboveIdleMB),
      mb(row.spectra.peakHeldAboveIdleMB),
      mb(row.baseline.peakHeldAboveIdleMB),
      `${int(row.capped.rows)}, ${mb(row.capped.peakRssAboveIdleMB)}`,
    ]),
  );
}
