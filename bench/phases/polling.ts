import { counterDelta } from '../harness.ts';
import type { PerExecutionRow, PollingRow } from '../model.ts';
import { median, spreadOf } from '../stats.ts';
import { fixedWaitVariant, ms, type PhaseContext, rotate } from './context.ts';

/**
 * Phases 1 and 2: one query at a time (PGlite runs one statement at a time, and the counters are
 * read around each execution, so nothing else may run meanwhile), `select pg_sleep(N)` for each
 * duration, through Spectra and through the fixed-wait polling baselines. For each execution:
 * the state transitions (its history's `*StateEntered` events), the Lambda invocations, DynamoDB
 * and Data API requests (deltas of /_spectra/counters), and the detection delay: from the
 * statement's end (DescribeStatement's UpdatedAt) to the execution entering `Release Session`.
 */

const TENANT = 'bench-poll';

/** One repetition: the figures a {@link PollingRow} takes the medians of. */
type PollingSample = Pick<
  PollingRow,
  | 'durationS'
  | 'variant'
  | 'transitions'
  | 'detectionDelayMs'
  | 'latencyMs'
  | 'lambdaInvocations'
  | 'dynamodbRequests'
  | 'dataApiRequests'
> & {
  /** What the statement slept: `durationS` plus this repetition's offset. */
  sleptS: number;
  sessionReused: boolean;
  byOperation: Record<string, number>;
};

export const sleepSql = (seconds: number) => `select pg_sleep(${seconds})`;

export async function runPolling(
  context: PhaseContext,
): Promise<{ polling: PollingRow[]; perExecution: PerExecutionRow[] }> {
  const { harness, plan, machines, log } = context;
  const variants: [string, string][] = [
    ['spectra', machines.spectra],
    ...plan.polling.fixedWaitsS.map((seconds): [string, string] => [
      fixedWaitVariant(seconds),
      machines.fixedWait.get(seconds) as string,
    ]),
  ];
  // One warm-up through Spectra leaves an idle session in the tenant's pool; every measured
  // execution (all variants share Spectra's pool) then reuses it, as a tenant's typical query does.
  await harness.createTenantUsers([TENANT]);
  await harness.run(machines.spectra, { tenantId: TENANT, sql: sleepSql(0) });

  const samples: PollingSample[] = [];
  for (const { durationS, repetitions, spreadS } of plan.polling.cases) {
    for (let repetition = 0; repetition < repetitions; repetition++) {
      // Rounded to milliseconds, as pg_sleep is precise to about that.
      const sleptS = Math.round((durationS + (spreadS * repetition) / repetitions) * 1000) / 1000;
      for (const [variant, machine] of rotate(variants, repetition)) {
        const before = await harness.counters();
        const arn = await harness.run(machine, { tenantId: TENANT, sql: sleepSql(sleptS) });
        const after = await harness.counters();
        const record = await harness.record(arn);
        if (record.status !== 'SUCCEEDED' || !record.output || !record.releaseEnteredMs) {
          throw new Error(
            `${variant} ${sleptS} s query ended ${record.status} (${record.error ?? 'no error'}); the polling phase needs every execution to succeed`,
          );
        }
        const endedMs = await harness.statementEndedMs(record.output.statementId);
        const delta = counterDelta(before, after);
        const sample: PollingSample = {
          durationS,
          sleptS,
          variant,
          transitions: record.transitions,
          detectionDelayMs: record.releaseEnteredMs - endedMs,
          latencyMs: record.latencyMs,
          lambdaInvocations: delta.lambdaInvocations,
          dynamodbRequests: delta.dynamodbRequests,
          dataApiRequests: delta.dataApiRequests,
          sessionReused: record.output.sessionReused,
          byOperation: delta.byOperation,
        };
        samples.push(sample);
        log(
          `  ${String(sleptS).padStart(6)} s query · ${variant.padEnd(8)} · run ${repetition + 1}/${repetitions}: ` +
            `${sample.transitions} transitions, ${sample.lambdaInvocations} Lambda, ` +
            `${sample.dynamodbRequests} DynamoDB, ${sample.dataApiRequests} Data API, ` +
            `detected after ${ms(sample.detectionDelayMs)}, ${ms(sample.latencyMs)} end to end`,
        );
      }
    }
  }

  const polling: PollingRow[] = [];
  for (const { durationS } of plan.polling.cases) {
    for (const [variant] of variants) {
      const group = samples.filter((s) => s.durationS === durationS && s.variant === variant);
      const of = (pick: (s: PollingSample) => number) => group.map(pick);
      polling.push({
        durationS,
        durationsS: of((s) => s.sleptS),
        variant,
        transitions: median(of((s) => s.transitions)),
        detectionDelayMs: median(of((s) => s.detectionDelayMs)),
        latencyMs: median(of((s) => s.latencyMs)),
        lambdaInvocations: median(of((s) => s.lambdaInvocations)),
        dynamodbRequests: median(of((s) => s.dynamodbRequests)),
        dataApiRequests: median(of((s) => s.dataApiRequests)),
        requestsByOperation: group[0]?.byOperation ?? {},
        spread: {
          transitions: spreadOf(of((s) => s.transitions)),
          detectionDelayMs: spreadOf(of((s) => s.detectionDelayMs)),
          latencyMs: spreadOf(of((s) => s.latencyMs)),
        },
      });
    }
  }
  const perExecution = polling
    .filter((row) => row.variant === 'spectra')
    .map((row) => ({
      durationS: row.durationS,
      transitions: row.transitions,
      lambdaInvocations: row.lambdaInvocations,
      dynamodbRequests: row.dynamodbRequests,
      dataApiRequests: row.dataApiRequests,
      requestsByOperation: row.requestsByOperation,
    }));
  return { polling, perExecution };
}
