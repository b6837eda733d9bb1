import { parseArgs } from 'node:util';
import { startBenchStack } from '../benchmark.ts';
import type { ConcurrentVariantResult } from '../model.ts';
import { prepareWorkload, runVariant, summarize, type VariantRun } from '../phases/concurrent.ts';
import { ms } from '../phases/context.ts';
import { FULL_PLAN } from '../plan.ts';

/**
 * How long AcquireSession should wait for a leased session before opening one
 * (`SPECTRA_ACQUIRE_WAIT_MILLISECONDS`). Runs the benchmark's concurrent workload on one stack once
 * per setting, interleaved, and prints hit rate, sessions opened and latency for each: 0 is the
 * pool without waiting, where every query that finds its tenant's sessions leased opens one.
 *
 *   npx tsx bench/experiments/acquire-wait.ts [--wait-ms 0,300,1000] [--repetitions 1] [--queries 500]
 */

const { values } = parseArgs({
  options: {
    'wait-ms': { type: 'string', default: '0,300,1000' },
    repetitions: { type: 'string', default: '1' },
    queries: { type: 'string', default: String(FULL_PLAN.concurrent.queries) },
    engine: { type: 'string', default: 'auto' },
  },
});
const waits = (values['wait-ms'] ?? '').split(',').map((value) => {
  const wait = Number(value);
  if (!Number.isInteger(wait) || wait < 0 || wait > 10_000)
    throw new Error(
      `--wait-ms takes whole numbers from 0 to 10000, comma-separated; got "${value}"`,
    );
  return wait;
});
const repetitions = Number(values.repetitions);
const plan = {
  ...FULL_PLAN,
  mode: 'custom' as const,
  engine: values.engine as typeof FULL_PLAN.engine,
  concurrent: { ...FULL_PLAN.concurrent, queries: Number(values.queries), repetitions },
};

const log = (line: string) => console.log(line);
const bench = await startBenchStack(plan, log);
try {
  // Imported once the stack has set the environment, as the benchmark's variants are.
  const { CONFIG_VARIABLES } = await import('../../functions/common/config.ts');
  const { createDeps } = await import('../../functions/common/deps.ts');
  const { configWith } = await import('../variants.ts');
  const { handlersFor } = await import('../../local/stepfunctions/workflow-handlers.ts');

  const settings = waits.map((wait) => ({
    wait,
    machine: bench.stack.stepFunctions.register(
      `bench-acquire-wait-${wait}`,
      bench.definition,
      handlersFor(createDeps(configWith({ [CONFIG_VARIABLES.acquireWait]: String(wait) }))),
    ),
    runs: [] as VariantRun[],
  }));
  const sequence = await prepareWorkload(bench.context);
  for (let repetition = 0; repetition < repetitions; repetition++) {
    for (const { wait, machine, runs } of settings) {
      log(`  waiting ≤ ${wait} ms · run ${repetition + 1}/${repetitions}…`);
      runs.push(await runVariant(bench.context, 'spectra', machine, sequence));
    }
  }
  const show = (wait: number, r: ConcurrentVariantResult) =>
    console.log(
      `${`waiting ≤ ${wait} ms`.padEnd(18)} hit rate ${r.hitRate.toFixed(3)} (misses ${r.misses.cold} cold, ${r.misses.concurrency} concurrency, ${r.misses.other} other), ` +
        `${r.sessionsOpened} sessions, p50 ${ms(r.p50Ms)}, p95 ${ms(r.p95Ms)}, ` +
        `${r.dynamodbRequestsPerQuery.toFixed(2)} DynamoDB/query, ${r.queriesPerSecond.toFixed(1)} queries/s`,
    );
  console.log(
    `\n${plan.concurrent.queries} queries, ${plan.concurrent.tenants} tenants, ${plan.concurrent.concurrency} at once, opening a session +${plan.openSessionLatencyMs} ms, median of ${repetitions}:`,
  );
  for (const { wait, runs } of settings) show(wait, summarize(runs));
} finally {
  await bench.stop();
}
process.exit(0);
