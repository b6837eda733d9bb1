import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Prng } from './chaos/prng.ts';
import { type Query, runVariant, tenantIdOf } from './phases/concurrent.ts';
import { summarize, type VariantRun } from './phases/concurrent-figures.ts';
import { mapLimit, rotate } from './phases/context.ts';
import { FULL_PLAN, QUICK_PLAN } from './plan.ts';
import { zipfSequence } from './stats.ts';

/**
 * The cost of session hygiene (`npm run bench:hygiene`, `-- --quick`): the concurrent workload of
 * the benchmark (Zipf-skewed tenants, a closed loop), with 5 % of its queries leaving a setting in
 * their session, run twice on the same stack in one run:
 *
 * - `hygiene`: the dirtying query is `set application_name = ...`, which Spectra classifies as a
 *   session-state change, so its session is dropped from the pool (or it runs without one);
 * - `todaysPool`: the same change made where no classifier sees it, `select bench_dirty()` (a
 *   function that runs set_config), so the session goes back to the pool dirty, as every session
 *   did before hygiene. The figures are what the pool did before, on the same work.
 *
 * Writes bench/results/hygiene.json and hygiene.md (quick: hygiene-quick.*).
 */

const DIRTY_SHARE = 0.05;
const CLEAN_SQL = FULL_PLAN.concurrent.sql;
const SEEN_DIRT = "set application_name = 'bench-dirty'";
const UNSEEN_DIRT = 'select bench_dirty()';
const DIRT_FUNCTION = `create or replace function bench_dirty() returns text language sql as $$ select set_config('application_name', 'bench-dirty', false) $$`;

type Variant = 'hygiene' | 'todaysPool';
const VARIANTS: Variant[] = ['hygiene', 'todaysPool'];

const quick = process.argv.includes('--quick');
const base = quick ? QUICK_PLAN : FULL_PLAN;
const plan = { ...base, polling: { ...base.polling, cases: [] } };
const { tenants, queries, zipfExponent, seed, repetitions } = plan.concurrent;

const { startBenchStack } = await import('./benchmark.ts');
const log = (line: string) => console.log(line);
const bench = await startBenchStack(plan, log);
try {
  const { context } = bench;
  const prng = new Prng(seed);
  const ranks = zipfSequence(tenants, zipfExponent, queries, seed);
  const dirty = ranks.map(() => prng.next() < DIRTY_SHARE);
  const sequenceOf = (variant: Variant): Query[] =>
    ranks.map((rank, position) => ({
      position,
      tenantId: tenantIdOf(rank),
      sql: dirty[position] ? (variant === 'hygiene' ? SEEN_DIRT : UNSEEN_DIRT) : CLEAN_SQL,
    }));
  const used = [...new Set(ranks.map((rank) => tenantIdOf(rank)))].sort();
  await context.harness.createTenantUsers(used);
  // The function that dirties a session unseen, in the schema every tenant reads.
  await mapLimit([used[0] as string], 1, (tenantId) =>
    context.harness.run(context.machines.spectra, { tenantId, sql: DIRT_FUNCTION }),
  );
  log(
    `Hygiene: ${queries} queries of ${used.length} tenants, ${dirty.filter(Boolean).length} of them dirtying their session, ${plan.concurrent.concurrency} at once, ×${repetitions}`,
  );
  const runs: Record<Variant, VariantRun[]> = { hygiene: [], todaysPool: [] };
  for (let repetition = 0; repetition < repetitions; repetition++) {
    for (const variant of rotate(VARIANTS, repetition)) {
      const run = await runVariant(
        context,
        'spectra',
        context.machines.spectra,
        sequenceOf(variant),
      );
      runs[variant].push(run);
      log(
        `  ${variant} · run ${repetition + 1}/${repetitions}: hit rate ${(run.hits / run.queries).toFixed(3)}, ${run.sessionsOpened} sessions opened, p50 ${Math.round(run.p50Ms)} ms, p95 ${Math.round(run.p95Ms)} ms, ${run.failed} failed`,
      );
    }
  }
  const hygiene = summarize(runs.hygiene);
  const todaysPool = summarize(runs.todaysPool);
  const results = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    engine: bench.engine.detail,
    openSessionLatencyMs: plan.openSessionLatencyMs,
    workload: {
      queries,
      tenants,
      concurrency: plan.concurrent.concurrency,
      zipfExponent,
      seed,
      repetitions,
      dirtyShare: DIRTY_SHARE,
      dirtyQueries: dirty.filter(Boolean).length,
    },
    variants: { hygiene, todaysPool },
    ratios: {
      hitRate: hygiene.hitRate / todaysPool.hitRate,
      sessionsOpened: hygiene.sessionsOpened / todaysPool.sessionsOpened,
      p50Ms: hygiene.p50Ms / todaysPool.p50Ms,
      p95Ms: hygiene.p95Ms / todaysPool.p95Ms,
    },
  };
  const row = (name: string, v: typeof hygiene) =>
    `| ${name} | ${v.hitRate.toFixed(3)} | ${v.sessionsOpened} | ${Math.round(v.p50Ms)} ms | ${Math.round(v.p95Ms)} ms | ${v.failed} |`;
  const markdown = `# Session hygiene: its cost\n\n${results.date}, ${results.engine}, opening a session +${plan.openSessionLatencyMs} ms. ${queries} queries of ${tenants} tenants (Zipf s=${zipfExponent}, seed ${seed}), ${plan.concurrent.concurrency} at once; ${results.workload.dirtyQueries} (${DIRTY_SHARE * 100} %) leave a setting in their session. Medians of ${repetitions} runs.\n\n| pool | hit rate | sessions opened | p50 | p95 | failed |\n| --- | --- | --- | --- | --- | --- |\n${row('hygiene (dirty sessions dropped)', hygiene)}\n${row("today's pool (dirty sessions reused)", todaysPool)}\n\nRatios, hygiene / today's pool: hit rate ${results.ratios.hitRate.toFixed(3)}, sessions opened ${results.ratios.sessionsOpened.toFixed(2)}, p50 ${results.ratios.p50Ms.toFixed(2)}, p95 ${results.ratios.p95Ms.toFixed(2)}.\n`;
  const outDir = resolve(fileURLToPath(new URL('./results', import.meta.url)));
  await mkdir(outDir, { recursive: true });
  const name = quick ? 'hygiene-quick' : 'hygiene';
  await writeFile(resolve(outDir, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(resolve(outDir, `${name}.md`), markdown);
  console.log(`\n${markdown}\nWrote bench/results/${name}.json and ${name}.md`);
} finally {
  await bench.stop();
}
process.exit(0);
