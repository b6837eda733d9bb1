import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { BenchResults } from './model.ts';

/**
 * The report's charts, drawn with Vega-Lite and rendered to SVG headless (Vega's View.toSVG needs
 * no browser or canvas).
 */

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const POLLING_LABELS: Record<string, string> = {
  spectra: 'Spectra (long-polling)',
  fixed5s: 'fixed 5 s Wait loop',
  fixed1s: 'fixed 1 s Wait loop',
};
const SESSION_LABELS: Record<string, string> = {
  spectra: 'Spectra (leased pool)',
  singleSession: 'one cached session',
  noReuse: 'no reuse',
};
const labelOf = (labels: Record<string, string>, variant: string) => labels[variant] ?? variant;

const base = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  width: 520,
  height: 280,
  config: {
    font: 'sans-serif',
    legend: { orient: 'bottom', columns: 1, labelLimit: 400 },
    axis: { labelLimit: 300 },
  },
} as const;

/** Latency of each query in a row, with and without session reuse. */
export function sequentialChart(results: BenchResults): TopLevelSpec {
  const { sequential } = results;
  const values = [
    ...sequential.withReuse.map((ms, index) => ({
      query: index + 1,
      ms,
      design: 'Spectra (reuse)',
    })),
    ...sequential.withoutReuse.map((ms, index) => ({
      query: index + 1,
      ms,
      design: 'no reuse (a session per query)',
    })),
  ];
  return {
    ...base,
    title: {
      text: 'Latency of each query in a row, one tenant',
      subtitle: `opening a session takes +${sequential.openSessionLatencyMs} ms; median of ${sequential.runs.withReuse.length} run(s)`,
    },
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'query', type: 'ordinal', title: 'query #', axis: { labelAngle: 0 } },
      y: {
        field: 'ms',
        type: 'quantitative',
        title: 'execution latency (ms)',
        scale: { zero: true },
      },
      color: { field: 'design', type: 'nominal', title: null },
    },
  };
}

function pollingChart(
  results: BenchResults,
  field: 'transitions' | 'detectionDelayMs',
  title: string,
  yTitle: string,
): TopLevelSpec {
  const values = results.polling.map((row) => ({
    durationS: row.durationS,
    variant: labelOf(POLLING_LABELS, row.variant),
    value: row[field],
    min:
      field === 'detectionDelayMs' ? row.spread.detectionDelayMs.min : row.spread.transitions.min,
    max:
      field === 'detectionDelayMs' ? row.spread.detectionDelayMs.max : row.spread.transitions.max,
  }));
  const x = {
    field: 'durationS',
    type: 'quantitative',
    title: 'query duration (s, log scale)',
    scale: { type: 'log' },
  } as const;
  const color = { field: 'variant', type: 'nominal', title: null } as const;
  return {
    ...base,
    title: { text: title, subtitle: 'median over the runs; bars show the range' },
    data: { values },
    layer: [
      {
        mark: { type: 'line', point: true },
        encoding: { x, y: { field: 'value', type: 'quantitative', title: yTitle }, color },
      },
      {
        mark: { type: 'rule' },
        encoding: { x, y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' }, color },
      },
    ],
  };
}

export const pollingTransitionsChart = (results: BenchResults) =>
  pollingChart(
    results,
    'transitions',
    'State transitions per execution against query duration',
    'state transitions',
  );

export const pollingDetectionChart = (results: BenchResults) =>
  pollingChart(
    results,
    'detectionDelayMs',
    "Detection delay: from the statement's end to leaving the poll loop",
    'detection delay (ms)',
  );

/** p50 and p95 latency of each session design under the concurrent workload. */
export function concurrentChart(results: BenchResults): TopLevelSpec {
  const c = results.meta.plan.concurrent;
  const values = Object.entries(results.variants).flatMap(([variant, result]) => [
    { variant: labelOf(SESSION_LABELS, variant), percentile: 'p50', ms: result.p50Ms },
    { variant: labelOf(SESSION_LABELS, variant), percentile: 'p95', ms: result.p95Ms },
  ]);
  return {
    ...base,
    title: {
      text: 'Latency under the concurrent multi-tenant workload',
      subtitle: `${c.queries} queries, ${c.tenants} tenants (Zipf s=${c.zipfExponent}), ${c.concurrency} at once; median of ${c.repetitions} run(s)`,
    },
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'variant', type: 'nominal', title: null, axis: { labelAngle: 0 }, sort: null },
      xOffset: { field: 'percentile' },
      y: { field: 'ms', type: 'quantitative', title: 'execution latency (ms)' },
      color: { field: 'percentile', type: 'nominal', title: null },
    },
  };
}

/** Every chart of the report, by file name (without the prefix quick mode adds). */
export async function renderCharts(results: BenchResults): Promise<Record<string, string>> {
  return {
    'sequential-latency.svg': await renderSvg(sequentialChart(results)),
    'polling-transitions.svg': await renderSvg(pollingTransitionsChart(results)),
    'polling-detection-delay.svg': await renderSvg(pollingDetectionChart(results)),
    'concurrent-latency.svg': await renderSvg(concurrentChart(results)),
  };
}
