import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchPlan, BenchResults } from '../../bench/model.ts';
import { FULL_PLAN } from '../../bench/plan.ts';

/**
 * The shape of the benchmark's result file from a tiny run on the local stack: every key the
 * report and the README rely on. Nothing here asserts a time: the machine is shared.
 */

/** A run small enough for the test suite: every phase, every variant, a handful of queries. */
const TINY_PLAN: BenchPlan = {
  ...FULL_PLAN,
  mode: 'custom',
  engine: 'pglite',
  openSessionLatencyMs: 50,
  polling: { cases: [{ durationS: 0.1, repetitions: 1, spreadS: 0 }], fixedWaitsS: [1] },
  sequential: { queries: 2, repetitions: 1, sql: 'select 1' },
  concurrent: {
    ...FULL_PLAN.concurrent,
    tenants: 3,
    queries: 6,
    concurrency: 2,
    repetitions: 1,
    sql: 'select 1',
  },
  pressure: {
    maxSessionsTotal: 3,
    burst: {
      ...FULL_PLAN.pressure.burst,
      queries: 3,
      concurrency: 3,
      repetitions: 1,
      sql: 'select 1',
    },
    manyTenants: {
      ...FULL_PLAN.pressure.manyTenants,
      tenants: 5,
      queries: 6,
      concurrency: 3,
      repetitions: 1,
      sql: 'select 1',
    },
  },
  results: { rows: [3000], repetitions: 1 },
  bundles: { functions: ['InvalidateSession'], initRuns: 1 },
};

/**
 * The plan is already one case and one repetition per phase; what is left is mostly fixed costs
 * that grow with the machine's load, not with the plan: one esbuild bundle and its cold start
 * (~4 s at a load of 15), PGlite's start with the demo schema, where the tenants' users and their
 * row security live (~16 s), three result-writing child processes (~11 s), and the fixed-wait
 * variant's 1 s Wait. The run takes ~25 s on a quiet machine and ~50 s at a load of 15 on 2 cores;
 * the limit leaves four times that, so a busy machine makes it slow but not failed.
 */
const RUN_TIMEOUT_MS = 240_000;

describe('Function: runBenchmark', () => {
  it('writes results with every key the report and the README rely on', {
    timeout: RUN_TIMEOUT_MS,
  }, async () => {
    // Prepare
    const { runBenchmark } = await import('../../bench/benchmark.ts');
    const { writeResults } = await import('../../bench/run.ts');
    const outDir = await mkdtemp(join(tmpdir(), 'spectra-bench-test-'));
    try {
      // Act
      const results = await runBenchmark(TINY_PLAN);
      const written = await writeResults(results, outDir);
      const saved = JSON.parse(await readFile(join(outDir, 'custom.json'), 'utf8')) as BenchResults;

      // Assess: the files
      expect(written.map((path) => path.slice(outDir.length + 1)).sort()).toEqual([
        'custom-concurrent-latency.svg',
        'custom-polling-detection-delay.svg',
        'custom-polling-transitions.svg',
        'custom-sequential-latency.svg',
        'custom.json',
        'custom.md',
      ]);
      const svg = await readFile(join(outDir, 'custom-sequential-latency.svg'), 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      const markdown = await readFile(join(outDir, 'custom.md'), 'utf8');
      expect(markdown).toContain('## Headline');
      expect(markdown).toContain('## Targets');

      // Assess: the keys
      for (const variant of ['spectra', 'singleSession', 'noReuse'] as const) {
        const v = saved.variants[variant];
        for (const key of [
          'hitRate',
          'busyRejections',
          'sessionsOpened',
          'p50Ms',
          'p95Ms',
        ] as const)
          expect(typeof v[key]).toBe('number');
        expect(v.queries).toBe(6);
        expect(v.hitRate).toBeGreaterThanOrEqual(0);
        expect(v.hitRate).toBeLessThanOrEqual(1);
        expect(v.p95Ms).toBeGreaterThanOrEqual(v.p50Ms);
      }
      expect(saved.variants.noReuse.hitRate).toBe(0);
      expect(saved.variants.noReuse.sessionsOpened).toBe(6);
      expect(saved.variants.spectra.busyRejections).toBe(0);

      expect(saved.perExecution.shortQuery).toMatchObject({
        transitions: expect.any(Number),
        lambdaInvocations: expect.any(Number),
        dynamodbRequests: expect.any(Number),
        dataApiRequests: expect.any(Number),
      });
      // The counts, not the times, are deterministic: a short query takes the short path.
      expect(saved.perExecution.shortQuery.transitions).toBe(6);

      expect(saved.polling.map((row) => row.variant).sort()).toEqual(['fixed1s', 'spectra']);
      for (const row of saved.polling) {
        expect(row).toMatchObject({
          durationS: 0.1,
          transitions: expect.any(Number),
          detectionDelayMs: expect.any(Number),
        });
      }

      expect(saved.sequential.withReuse).toHaveLength(2);
      expect(saved.sequential.withoutReuse).toHaveLength(2);
      expect(saved.sequential.openSessionLatencyMs).toBe(50);

      expect(saved.results.cases).toHaveLength(1);
      const [largeResult] = saved.results.cases;
      expect(largeResult?.rows).toBe(3000);
      for (const variant of ['spectra', 'baseline'] as const) {
        expect(largeResult?.[variant]).toEqual({
          seconds: expect.any(Number),
          megabytesPerSecond: expect.any(Number),
          peakRssAboveIdleMB: expect.any(Number),
          peakHeldAboveIdleMB: expect.any(Number),
        });
      }
      // Both variants wrote every row of the same result, and so did the run with a capped heap.
      expect(largeResult?.runs.map((run) => [run.variant, run.rows]).sort()).toEqual([
        ['baseline', 3000],
        ['spectra', 3000],
        ['spectra-capped', 3000],
      ]);
      expect(largeResult?.capped).toMatchObject({ oldSpaceMB: 64, rows: 3000 });
      expect(markdown).toContain('## 5. The pool under pressure');
      expect(markdown).toContain('## 6. Large results');

      expect(saved.bundles).toHaveLength(1);
      expect(saved.bundles[0]).toMatchObject({
        function: 'InvalidateSession',
        bytes: expect.any(Number),
        initMs: expect.any(Number),
      });

      expect(saved.meta).toMatchObject({
        date: expect.any(String),
        node: process.version,
        engine: 'pglite',
        latency: { openSessionMs: 50 },
      });
      expect(saved.meta.machine.cpus).toBeGreaterThan(0);
      for (const workload of [saved.variants, saved.pressure.burst, saved.pressure.manyTenants])
        expect(workload.spectra).toMatchObject({
          p99Ms: expect.any(Number),
          largestPool: expect.any(Number),
          largestTotal: expect.any(Number),
        });
      expect(saved.pressure.manyTenants.spectra.largestTotal).toBeLessThanOrEqual(3);
      expect(saved.targets.map((target) => target.id)).toEqual([
        'pressure-largest-pool',
        'pressure-total-cap',
        'concurrent-p95-vs-no-reuse',
        'many-tenants-p95-vs-no-reuse',
        'concurrent-dynamodb-requests',
        'concurrent-hit-rate',
        'concurrent-busy-rejections',
        'short-query-transitions',
        'short-query-data-api',
        'long-query-transitions',
        'long-query-detection',
        'results-memory-flat',
        'results-million-speed',
        'bundle-size',
        'bundle-cold-init',
      ]);
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  });
});
