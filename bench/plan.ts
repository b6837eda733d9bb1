import { parseArgs } from 'node:util';
import type { BenchPlan, EngineChoice } from './model.ts';

/**
 * The full and quick plans, and the command line that picks and adjusts them. The full plan is
 * what bench/results/latest.* come from; quick is a check that the benchmark works (under a
 * minute, light on a shared machine), not a source of figures.
 */

const SHORT_SQL = 'select pg_sleep(0.05)';

export const FULL_PLAN: BenchPlan = {
  mode: 'full',
  engine: 'auto',
  openSessionLatencyMs: 300,
  polling: {
    // Spread over the 1 s loop's interval for 2 s (staying under Submit's 5 s long-poll), over the
    // 5 s loop's for 10 s and 60 s (staying under the end of Spectra's third 20 s poll at 65 s).
    cases: [
      { durationS: 0.1, repetitions: 5, spreadS: 0 },
      { durationS: 2, repetitions: 5, spreadS: 1 },
      { durationS: 10, repetitions: 3, spreadS: 5 },
      { durationS: 60, repetitions: 3, spreadS: 5 },
    ],
    fixedWaitsS: [5, 1],
  },
  sequential: { queries: 10, repetitions: 3, sql: SHORT_SQL },
  concurrent: {
    tenants: 20,
    queries: 500,
    concurrency: 16,
    zipfExponent: 1,
    seed: 20_240_601,
    repetitions: 3,
    sql: SHORT_SQL,
  },
  pressure: {
    // The many-tenant workload draws 163 of its 200 tenants, each of which opens at least one
    // session unchecked; the cap of 100 is well below that. The 20 tenants above need at most 80.
    maxSessionsTotal: 100,
    burst: {
      tenants: 1,
      queries: 30,
      concurrency: 30,
      zipfExponent: 0,
      seed: 1,
      repetitions: 3,
      sql: 'select pg_sleep(0.3)',
    },
    manyTenants: {
      tenants: 200,
      queries: 1000,
      concurrency: 16,
      zipfExponent: 1,
      seed: 20_261_201,
      repetitions: 2,
      sql: SHORT_SQL,
    },
  },
  // 10^4 to 10^6 rows, and 2.5 million (about 97 MB of values, near the emulator's 100 MB Data
  // API limit).
  results: { rows: [10_000, 100_000, 1_000_000, 2_500_000], repetitions: 1 },
  bundles: { functions: [], initRuns: 5 },
};

export const QUICK_PLAN: BenchPlan = {
  ...FULL_PLAN,
  mode: 'quick',
  polling: {
    cases: [
      { durationS: 0.1, repetitions: 1, spreadS: 0 },
      { durationS: 2, repetitions: 1, spreadS: 1 },
    ],
    fixedWaitsS: [5, 1],
  },
  sequential: { ...FULL_PLAN.sequential, repetitions: 1 },
  concurrent: { ...FULL_PLAN.concurrent, tenants: 8, queries: 60, concurrency: 8, repetitions: 1 },
  pressure: {
    maxSessionsTotal: 20,
    burst: { ...FULL_PLAN.pressure.burst, queries: 12, concurrency: 12, repetitions: 1 },
    manyTenants: {
      ...FULL_PLAN.pressure.manyTenants,
      tenants: 40,
      queries: 80,
      concurrency: 8,
      repetitions: 1,
    },
  },
  // Three cold starts per bundle instead of five: a quick run checks the benchmark, it is not
  // where the figures come from.
  results: { rows: [10_000, 100_000], repetitions: 1 },
  bundles: { functions: [], initRuns: 3 },
};

export const USAGE = `Usage: npm run bench -- [options]   (or: npx tsx bench/run.ts [options])

  --quick                  a short run (under a minute) to bench/results/quick.*; the full run
                           writes bench/results/latest.*
  --engine <auto|postgres|pglite>
                           the Data API emulator's SQL engine (default auto: PostgreSQL when its
                           binaries or SPECTRA_LOCAL_DATABASE_URL are there, else PGlite)
  --open-latency-ms <n>    added to every connection: a statement that opens a session or runs without one (default 300)
  --tenants <n>            concurrent workload: tenants (default 20; quick 8)
  --queries <n>            concurrent workload: queries (default 500; quick 60)
  --concurrency <n>        concurrent workload: queries at once (default 16; quick 8)
  --zipf <s>               concurrent workload: Zipf exponent (default 1)
  --seed <n>               concurrent workload: seed of the tenant sequence
  --out <dir>              where the results go (default bench/results)
  --only <results|pool|bundles>
                           runs only one part and puts its figures into the mode's earlier
                           results file (latest.json, or quick.json): results, the large-results
                           phase; pool, the concurrent workload and the pool under pressure;
                           bundles, the functions' bundles and cold starts (no local stack)
  --render <file.json>     runs nothing: writes the Markdown and the charts of earlier results
  --help`;

/**
 * What `--only` reruns: `results`, the large-results phase; `pool`, the concurrent workload and
 * the pool under pressure (phases 4 and 5); `bundles`, the packaging phase.
 */
export const ONLY_PARTS = ['results', 'pool', 'bundles'] as const;
export type OnlyPart = (typeof ONLY_PARTS)[number];

export interface CommandLine {
  plan: BenchPlan;
  outDir: string;
  help: boolean;
  /** A results file to render again instead of running. */
  render?: string;
  /** Run that part alone, into the earlier results. */
  only?: OnlyPart;
}

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new Error(`--${name} must be a whole number >= 1; got "${value}"`);
  return parsed;
}

export function parseCommandLine(argv: string[], defaultOutDir: string): CommandLine {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      engine: { type: 'string' },
      'open-latency-ms': { type: 'string' },
      tenants: { type: 'string' },
      queries: { type: 'string' },
      concurrency: { type: 'string' },
      zipf: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      render: { type: 'string' },
      only: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const base = values.quick ? QUICK_PLAN : FULL_PLAN;
  const engine = (values.engine ?? base.engine) as EngineChoice;
  if (!['auto', 'postgres', 'pglite'].includes(engine))
    throw new Error(`--engine must be auto, postgres or pglite; got "${engine}"`);
  const latencyText = values['open-latency-ms'];
  const openSessionLatencyMs =
    latencyText === undefined ? base.openSessionLatencyMs : Number(latencyText);
  if (!Number.isInteger(openSessionLatencyMs) || openSessionLatencyMs < 0)
    throw new Error(`--open-latency-ms must be a whole number >= 0; got "${latencyText}"`);
  const zipfExponent =
    values.zipf === undefined ? base.concurrent.zipfExponent : Number(values.zipf);
  if (!(zipfExponent >= 0)) throw new Error(`--zipf must be a number >= 0; got "${values.zipf}"`);
  const c = base.concurrent;
  const plan: BenchPlan = {
    ...base,
    engine,
    openSessionLatencyMs,
    concurrent: {
      ...c,
      tenants: positiveInteger('tenants', values.tenants, c.tenants),
      queries: positiveInteger('queries', values.queries, c.queries),
      concurrency: positiveInteger('concurrency', values.concurrency, c.concurrency),
      seed: positiveInteger('seed', values.seed, c.seed),
      zipfExponent,
    },
  };
  if (plan.concurrent.tenants > 99)
    throw new Error('--tenants must be at most 99 (tenant ids are bench-t01 to bench-t99)');
  const only = values.only as OnlyPart | undefined;
  if (only !== undefined && !ONLY_PARTS.includes(only))
    throw new Error(`--only takes one part, ${ONLY_PARTS.join(' or ')}; got "${values.only}"`);
  return {
    plan,
    outDir: values.out ?? defaultOutDir,
    help: values.help ?? false,
    render: values.render,
    only,
  };
}
