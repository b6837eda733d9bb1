import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  LONG_POLL_PHASE_SECONDS,
  MAX_SCHEDULED_WAIT_SECONDS,
  WAIT_FRACTION_OF_ELAPSED,
} from '../functions/common/polling.ts';
import { WORKFLOW_FUNCTIONS } from '../functions/registry.ts';
import { SimulatedClock } from '../local/clock.ts';
import { localFunctionArn } from '../local/identity.ts';
import type { LocalStack } from '../local/stack.ts';
import { configureBenchEnvironment, FUNCTION_ENVIRONMENT } from './benchmark.ts';
import { counterDelta, Harness } from './harness.ts';
import { median } from './stats.ts';

/**
 * Long queries (`npm run bench:long`; `-- --quick` runs the 1-minute case only): queries of 1
 * minute to 24 hours through Spectra and through the fixed 5-second Wait loop of the public
 * samples, on the whole local stack on a simulated clock (local/clock.ts), so that a day of
 * polling takes seconds and every figure is what the same code does, not an estimate.
 *
 * For each execution: state transitions (the history's `*StateEntered` events, which Step
 * Functions bills), history events (at most 25,000), Lambda invocations and GB-seconds (from the
 * history, on the simulated clock), Data API and DynamoDB requests (the stack's counters), the
 * cost at the list prices below, and the detection delay: from the statement's end (its
 * DescribeStatement UpdatedAt) to the execution entering Release Session. Each case runs three
 * durations spread over one polling interval of Spectra's at that age, as a query may end
 * anywhere between two polls; the figures are medians, the delay with its worst.
 *
 * Writes bench/results/long-queries.json and long-queries.md (quick: long-queries-quick.*).
 */

const quick = process.argv.includes('--quick');

/** A minute under the Data API's 24 hours, which bound a statement and the session it runs on. */
const DAY_S = 24 * 3600 - 60;
const CASES = quick
  ? [{ label: '1 min', seconds: 60 }]
  : [
      { label: '1 min', seconds: 60 },
      { label: '10 min', seconds: 600 },
      { label: '1 h', seconds: 3600 },
      { label: '6 h', seconds: 6 * 3600 },
      { label: '24 h', seconds: DAY_S },
    ];
const REPETITIONS = quick ? 1 : 3;
const FIXED_WAIT_S = 5;
const TENANT = 'bench-long';

/**
 * List prices, us-east-1, on-demand (AWS pricing pages, 2025): Step Functions Standard per state
 * transition; Lambda per request and per GB-second on ARM64 (the functions' architecture);
 * DynamoDB on-demand per write and read request unit (each of Spectra's items is under 1 KB, so
 * one request is one unit). Data API requests cost nothing of their own; the warehouse's time is
 * the same for both designs and is left out.
 */
const PRICES = {
  transition: 0.025 / 1000,
  lambdaRequest: 0.2 / 1_000_000,
  lambdaGbSecond: 0.0000133334,
  dynamoWrite: 0.625 / 1_000_000,
  dynamoRead: 0.125 / 1_000_000,
} as const;

const DYNAMO_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

/**
 * The compute each invocation is billed for beside its waiting. On the simulated clock a function
 * takes no time but what it waits (a long-poll), so this assumed figure, a warm invocation's few
 * requests, stands in for the rest; the same for both designs.
 */
const COMPUTE_MS_PER_INVOCATION = 100;

/** Memory of each function by its ARN, as the CDK stack deploys it. */
const MEMORY_MB = new Map(
  WORKFLOW_FUNCTIONS.map((fn) => [
    localFunctionArn(fn.name),
    'memoryMB' in fn && typeof fn.memoryMB === 'number' ? fn.memoryMB : 256,
  ]),
);

/** The Wait Spectra's schedule sets `seconds` after submission: the spread of each case. */
function scheduledWaitAt(seconds: number): number {
  if (seconds < LONG_POLL_PHASE_SECONDS) return 0;
  return Math.min(MAX_SCHEDULED_WAIT_SECONDS, Math.floor(WAIT_FRACTION_OF_ELAPSED * seconds));
}

interface Sample {
  durationS: number;
  status: string;
  error?: string;
  /** Seconds from start to stop (simulated). */
  elapsedS: number;
  transitions: number;
  historyEvents: number;
  lambdaInvocations: number;
  lambdaGbSeconds: number;
  dataApiRequests: number;
  dynamodbWrites: number;
  dynamodbReads: number;
  costUsd: number;
  /** Undefined when the execution did not succeed. */
  detectionDelayS?: number;
}

export interface LongQueryRow {
  label: string;
  durationS: number;
  variant: 'spectra' | 'fixed5s';
  /** `SUCCEEDED`, or how it ended (`FAILED States.Runtime after 3.9 h`). */
  outcome: string;
  transitions: number;
  historyEvents: number;
  lambdaInvocations: number;
  lambdaGbSeconds: number;
  dataApiRequests: number;
  dynamodbRequests: number;
  costUsd: number;
  detectionDelayS?: number;
  detectionDelayWorstS?: number;
  /** What the README's target allows: max(1 s, 2 % of the duration). */
  detectionDelayAllowedS: number;
  runs: number;
}

const costOf = (s: Omit<Sample, 'costUsd' | 'durationS' | 'status' | 'elapsedS'>) =>
  s.transitions * PRICES.transition +
  s.lambdaInvocations * PRICES.lambdaRequest +
  s.lambdaGbSeconds * PRICES.lambdaGbSecond +
  s.dynamodbWrites * PRICES.dynamoWrite +
  s.dynamodbReads * PRICES.dynamoRead;

async function runOnce(
  harness: Harness,
  machine: string,
  durationS: number,
  marker: string,
): Promise<Sample> {
  await harness.control('statements/hold', { sqlContains: marker, seconds: durationS });
  const before = await harness.counters();
  const executionArn = await harness.run(machine, {
    tenantId: TENANT,
    sql: `select 1 as done /* ${marker} */`,
    // As a caller would set it: an hour to spare, at most the 24 hours allowed. A pooled session
    // is leased only if it outlives that (the Data API closes sessions at 24 hours).
    timeoutSeconds: Math.min(86_400, Math.ceil(durationS) + 3600),
  });
  const after = await harness.counters();
  await harness.control('statements/release', { sqlContains: marker });
  const record = await harness.record(executionArn);
  const delta = counterDelta(before, after);
  const byOperation = Object.entries(delta.byOperation).filter(([op]) =>
    op.startsWith('DynamoDB_20120810.'),
  );
  const dynamodbWrites = byOperation
    .filter(([op]) => DYNAMO_WRITES.has(op.split('.')[1] ?? ''))
    .reduce((sum, [, n]) => sum + n, 0);
  const measured = {
    transitions: record.transitions,
    historyEvents: record.historyEvents,
    lambdaInvocations: delta.lambdaInvocations,
    lambdaGbSeconds: record.invocations.reduce(
      (sum, run) =>
        sum +
        ((run.ms + COMPUTE_MS_PER_INVOCATION) / 1000) *
          ((MEMORY_MB.get(run.functionArn) ?? 256) / 1024),
      0,
    ),
    dataApiRequests: delta.dataApiRequests,
    dynamodbWrites,
    dynamodbReads: delta.dynamodbRequests - dynamodbWrites,
  };
  let detectionDelayS: number | undefined;
  if (record.status === 'SUCCEEDED' && record.output && record.releaseEnteredMs !== undefined) {
    const endedMs = await harness.statementEndedMs(record.output.statementId);
    detectionDelayS = (record.releaseEnteredMs - endedMs) / 1000;
  }
  return {
    durationS,
    status: record.status,
    error: record.error,
    elapsedS: (record.stopMs - record.startMs) / 1000,
    ...measured,
    costUsd: costOf(measured),
    detectionDelayS,
  };
}

function rowOf(
  label: string,
  durationS: number,
  variant: LongQueryRow['variant'],
  samples: Sample[],
): LongQueryRow {
  const of = (pick: (s: Sample) => number) => median(samples.map(pick));
  const delays = samples.flatMap((s) =>
    s.detectionDelayS === undefined ? [] : [s.detectionDelayS],
  );
  const failed = samples.find((s) => s.status !== 'SUCCEEDED');
  return {
    label,
    durationS,
    variant,
    outcome: failed
      ? `${failed.status} ${failed.error ?? ''} after ${hours(failed.elapsedS)}`.replace('  ', ' ')
      : 'SUCCEEDED',
    transitions: of((s) => s.transitions),
    historyEvents: of((s) => s.historyEvents),
    lambdaInvocations: of((s) => s.lambdaInvocations),
    lambdaGbSeconds: of((s) => s.lambdaGbSeconds),
    dataApiRequests: of((s) => s.dataApiRequests),
    dynamodbRequests: of((s) => s.dynamodbWrites + s.dynamodbReads),
    costUsd: of((s) => s.costUsd),
    detectionDelayS: delays.length > 0 ? median(delays) : undefined,
    detectionDelayWorstS: delays.length > 0 ? Math.max(...delays) : undefined,
    detectionDelayAllowedS: Math.max(1, 0.02 * durationS),
    runs: samples.length,
  };
}

function hours(seconds: number): string {
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

const usd = (value: number) => `$${value < 0.01 ? value.toFixed(5) : value.toFixed(4)}`;
const seconds = (value: number | undefined) =>
  value === undefined ? '—' : value < 10 ? `${value.toFixed(2)} s` : `${Math.round(value)} s`;
const ratio = (a: number, b: number) => (b === 0 ? '—' : `${(a / b).toFixed(2)}×`);

export function renderLongQueries(rows: LongQueryRow[], header: string): string {
  const lines = [
    '# Long queries',
    '',
    header,
    '',
    'Rerun: `npm run bench:long` (the whole local stack on a simulated clock; a few minutes).',
    '',
    '| Query | Design | Outcome | Transitions | History events (of 25,000) | Lambda invocations | Lambda GB-s | Data API requests | DynamoDB requests | Cost per query | Detection delay (median, worst) | Allowed |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.label} | ${row.variant === 'spectra' ? 'Spectra' : 'fixed 5 s Wait loop'} | ${row.outcome} | ${row.transitions} | ${row.historyEvents} (${((100 * row.historyEvents) / 25_000).toFixed(1)} %) | ${row.lambdaInvocations} | ${row.lambdaGbSeconds.toFixed(1)} | ${row.dataApiRequests} | ${row.dynamodbRequests} | ${usd(row.costUsd)} | ${seconds(row.detectionDelayS)}, ${seconds(row.detectionDelayWorstS)} | ${seconds(row.detectionDelayAllowedS)} |`,
    );
  }
  lines.push('', '## Spectra against the fixed 5-second loop, in the same run', '');
  lines.push(
    '| Query | Transitions | History events | Lambda invocations | Data API requests | Cost |',
  );
  lines.push('| --- | --- | --- | --- | --- | --- |');
  for (const spectra of rows.filter((r) => r.variant === 'spectra')) {
    const fixed = rows.find((r) => r.variant === 'fixed5s' && r.label === spectra.label);
    if (!fixed) continue;
    const note = fixed.outcome === 'SUCCEEDED' ? '' : ' (the loop failed)';
    lines.push(
      `| ${spectra.label}${note} | ${ratio(spectra.transitions, fixed.transitions)} | ${ratio(spectra.historyEvents, fixed.historyEvents)} | ${ratio(spectra.lambdaInvocations, fixed.lambdaInvocations)} | ${ratio(spectra.dataApiRequests, fixed.dataApiRequests)} | ${ratio(spectra.costUsd, fixed.costUsd)} |`,
    );
  }
  lines.push(
    '',
    `Lambda GB-seconds: each invocation's time on the simulated clock (its long-poll, for Spectra) plus ${COMPUTE_MS_PER_INVOCATION} ms of compute assumed per invocation, at each function's memory.`,
    '',
    `Prices: Step Functions Standard $${(PRICES.transition * 1000).toFixed(3)} per 1,000 transitions; Lambda $0.20 per million requests and $${PRICES.lambdaGbSecond} per GB-second (ARM64); DynamoDB on-demand $0.625 per million writes, $0.125 per million reads (us-east-1). The warehouse's own time is the same for both designs and left out.`,
    '',
  );
  return lines.join('\n');
}

async function main() {
  configureBenchEnvironment();
  const clock = new SimulatedClock(Date.parse('2026-12-01T00:00:00.000Z'));
  const log = (line: string) => console.log(line);
  const { startLocalStack } = await import('../local/stack.ts');
  const stack: LocalStack = await startLocalStack({ port: 0, clock });
  const harness = new Harness(
    stack.url,
    FUNCTION_ENVIRONMENT.SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME as string,
  );
  try {
    // Imported once the stack has set the environment, as the benchmark's variants are.
    const variants = await import('./variants.ts');
    const { localDefinitionText } = await import('../local/stepfunctions/local-execution.ts');
    const fixedMachine = stack.stepFunctions.register(
      'bench-long-fixed-5s',
      variants.fixedWaitDefinition(localDefinitionText(), FIXED_WAIT_S),
      await variants.fixedWaitHandlers(() => new Date(clock.now())),
    );
    const machines = { spectra: stack.stateMachineArn, fixed5s: fixedMachine } as const;
    await harness.createTenantUsers([TENANT]);
    const started = Date.now();
    const rows: LongQueryRow[] = [];
    for (const { label, seconds: durationS } of CASES) {
      const spread = Math.max(FIXED_WAIT_S, scheduledWaitAt(durationS));
      for (const variant of ['spectra', 'fixed5s'] as const) {
        const samples: Sample[] = [];
        for (let repetition = 0; repetition < REPETITIONS; repetition++) {
          const duration =
            Math.round((durationS - (spread * repetition) / REPETITIONS) * 1000) / 1000;
          const sample = await runOnce(
            harness,
            machines[variant],
            duration,
            `long-${variant}-${durationS}-${repetition}`,
          );
          samples.push(sample);
          log(
            `  ${label.padEnd(6)} · ${variant.padEnd(7)} · ${duration} s: ${sample.status}${sample.error ? ` ${sample.error}` : ''}, ${sample.transitions} transitions, ${sample.historyEvents} events, ${sample.lambdaInvocations} Lambda, ${sample.dataApiRequests} Data API, delay ${seconds(sample.detectionDelayS)}`,
          );
          // A loop that met the history limit meets it the same way at any offset.
          if (sample.status !== 'SUCCEEDED') break;
        }
        rows.push(rowOf(label, durationS, variant, samples));
      }
    }
    const header = `${new Date().toISOString()} · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'} · PGlite · simulated clock · run took ${((Date.now() - started) / 1000).toFixed(0)} s of real time`;
    const directory = fileURLToPath(new URL('./results/', import.meta.url));
    await mkdir(directory, { recursive: true });
    const name = quick ? 'long-queries-quick' : 'long-queries';
    await writeFile(
      resolve(directory, `${name}.json`),
      `${JSON.stringify({ header, prices: PRICES, rows }, null, 2)}\n`,
    );
    await writeFile(resolve(directory, `${name}.md`), renderLongQueries(rows, header));
    log(`Wrote bench/results/${name}.json and ${name}.md`);
  } finally {
    harness.destroy();
    await stack.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
