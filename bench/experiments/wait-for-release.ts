import { parseArgs } from 'node:util';
import { startBenchStack } from '../benchmark.ts';
import type { ConcurrentVariantResult } from '../model.ts';
import { prepareWorkload, runVariant, summarize, type VariantRun } from '../phases/concurrent.ts';
import { ms } from '../phases/context.ts';
import { FULL_PLAN } from '../plan.ts';

/**
 * An experiment behind a proposed change to functions/ (not made there): when a tenant's pool has
 * sessions but all are leased, AcquireSession waits up to `--wait-ms` for one to be released
 * before reporting a miss, instead of opening a new session at once. Opening a session costs
 * what a short query costs several times over (here `--open-latency-ms`), while a leased session
 * of a short query is released within tens of milliseconds.
 *
 * It runs the concurrent workload of the benchmark on one stack, Spectra as it is and Spectra with
 * the wait, interleaved, and prints both. The change is made here in a SessionStore subclass, so
 * the experiment needs nothing from functions/ but what is there.
 *
 *   npx tsx bench/experiments/wait-for-release.ts [--wait-ms 300] [--repetitions 1] [--queries 500]
 */

const { values } = parseArgs({
  options: {
    'wait-ms': { type: 'string', default: '300' },
    repetitions: { type: 'string', default: '1' },
    queries: { type: 'string', default: String(FULL_PLAN.concurrent.queries) },
    engine: { type: 'string', default: 'auto' },
  },
});
const waitMs = Number(values['wait-ms']);
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
  const { SessionStore } = await import('../../functions/common/session-store.ts');
  const { dynamoDbDocumentClient } = await import('../../functions/common/clients.ts');
  const { createDeps } = await import('../../functions/common/deps.ts');
  const { configWith, handlersFor } = await import('../variants.ts');

  class WaitForReleaseStore extends SessionStore {
    override async acquire(tenantId: string, dbUser: string, owner: string) {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const result = await super.acquire(tenantId, dbUser, owner);
        if (result.kind === 'hit' || Date.now() >= deadline) return result;
        // An empty pool has nothing to wait for: the tenant's first query opens a session at once.
        if ((await this.listPool(tenantId, dbUser)).length === 0) return result;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }
  const config = configWith({});
  const store = new WaitForReleaseStore(dynamoDbDocumentClient, config.sessionsTableName, {
    keepAliveSeconds: config.sessionKeepAliveSeconds,
    idleTimeoutSeconds: config.sessionIdleTimeoutSeconds,
    maxSessionsPerTenant: config.maxSessionsPerTenant,
  });
  const waiting = bench.stack.stepFunctions.register(
    'bench-wait-for-release',
    bench.definition,
    handlersFor(createDeps(config, { store })),
  );

  const sequence = await prepareWorkload(bench.context);
  const runs: Record<'spectra' | 'waitForRelease', VariantRun[]> = {
    spectra: [],
    waitForRelease: [],
  };
  for (let repetition = 0; repetition < repetitions; repetition++) {
    runs.spectra.push(
      await runVariant(bench.context, 'spectra', bench.context.machines.spectra, sequence),
    );
    runs.waitForRelease.push(await runVariant(bench.context, 'spectra', waiting, sequence));
  }
  const show = (name: string, r: ConcurrentVariantResult) =>
    console.log(
      `${name.padEnd(34)} hit rate ${r.hitRate.toFixed(3)} (misses ${r.misses.cold} cold, ${r.misses.concurrency} concurrency), ` +
        `${r.sessionsOpened} sessions, p50 ${ms(r.p50Ms)}, p95 ${ms(r.p95Ms)}, ` +
        `${r.dynamodbRequestsPerQuery.toFixed(2)} DynamoDB/query, ${r.queriesPerSecond.toFixed(1)} queries/s, ` +
        `${ms(r.cpuMsPerQuery)} CPU/query`,
    );
  console.log(
    `\n${plan.concurrent.queries} queries, ${plan.concurrent.tenants} tenants, ${plan.concurrent.concurrency} at once, opening a session +${plan.openSessionLatencyMs} ms, median of ${repetitions}:`,
  );
  show('Spectra', summarize(runs.spectra));
  show(`Spectra, waiting ≤ ${waitMs} ms for a release`, summarize(runs.waitForRelease));
} finally {
  await bench.stop();
}
process.exit(0);
