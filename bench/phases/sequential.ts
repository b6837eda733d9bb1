import type { SequentialResult } from '../model.ts';
import { median } from '../stats.ts';
import { ms, type PhaseContext, rotate } from './context.ts';

/**
 * Phase 3: queries in a row for one tenant, with Spectra's pool and with the no-reuse design,
 * while the Data API emulator makes every session opening take `openSessionLatencyMs`. Each
 * repetition uses new tenants whose database users exist already, so the first query pays for
 * opening a session and nothing else.
 */
export async function runSequential(context: PhaseContext): Promise<SequentialResult> {
  const { harness, plan, machines, log } = context;
  const { queries, repetitions, sql } = plan.sequential;
  const variants = [
    ['withReuse', machines.spectra],
    ['withoutReuse', machines.noReuse],
  ] as const;
  const runs: SequentialResult['runs'] = { withReuse: [], withoutReuse: [] };

  for (let repetition = 0; repetition < repetitions; repetition++) {
    for (const [variant, machine] of rotate(variants, repetition)) {
      const tenantId = `bench-seq-${variant === 'withReuse' ? 'reuse' : 'noreuse'}-${repetition + 1}`;
      await harness.createTenantUsers([tenantId]);
      const latencies: number[] = [];
      let reused = 0;
      for (let index = 0; index < queries; index++) {
        const record = await harness.record(await harness.run(machine, { tenantId, sql }));
        if (record.status !== 'SUCCEEDED')
          throw new Error(`${variant} query ${index + 1} ended ${record.status}: ${record.error}`);
        latencies.push(record.latencyMs);
        if (record.output?.sessionReused) reused++;
      }
      runs[variant].push(latencies);
      log(
        `  ${variant.padEnd(12)} · run ${repetition + 1}/${repetitions}: first ${ms(latencies[0] ?? 0)}, ` +
          `rest median ${ms(median(latencies.slice(1)))}, ${reused}/${queries} reused a session`,
      );
    }
  }

  const byPosition = (all: number[][]) =>
    Array.from({ length: queries }, (_, index) => median(all.map((run) => run[index] as number)));
  const withReuse = byPosition(runs.withReuse);
  const withoutReuse = byPosition(runs.withoutReuse);
  const summary = (latencies: number[]) => ({
    firstMs: latencies[0] as number,
    restMedianMs: median(latencies.slice(1)),
  });
  return {
    openSessionLatencyMs: plan.openSessionLatencyMs,
    withReuse,
    withoutReuse,
    runs,
    summary: { withReuse: summary(withReuse), withoutReuse: summary(withoutReuse) },
  };
}
