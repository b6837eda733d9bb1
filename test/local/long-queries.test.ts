import { randomUUID } from 'node:crypto';
import { DescribeStatementCommand } from '@aws-sdk/client-redshift-data';
import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackApi } from '../../bench/chaos/stack-api.ts';
import { STEP_FUNCTIONS_LIMITS } from '../../functions/common/payload-limits.ts';
import { SimulatedClock } from '../../local/clock.ts';
import { LOCAL_SESSIONS_TABLE_NAME } from '../../local/identity.ts';
import type { LocalStack } from '../../local/stack.ts';
import { STATES } from '../../statemachine/definition.ts';
import { IMMEDIATE_RETRIES, startStackWithApi } from '../support/local-stack.ts';

/**
 * Long and runaway queries on the whole local stack, on a simulated clock: the Data API's
 * long-polls, the statements' durations, the Wait states and the functions all run on it, so a
 * query of a day takes seconds and nothing races the machine's clock. Every execution runs
 * alone (one actor waits at a time, as the clock requires) and is awaited with the service's
 * drain, never with a timer.
 */

process.env.SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME = LOCAL_SESSIONS_TABLE_NAME;

const TENANT = 'longq';
const clock = new SimulatedClock(Date.parse('2026-12-01T00:00:00.000Z'));
let stack: LocalStack;
let api: StackApi;

beforeAll(async () => {
  ({ stack, api } = await startStackWithApi({
    clock,
    // The Wait states wait as the schedule says, on the simulated clock.
    waitTimeOverrides: {},
    retryIntervalOverrides: IMMEDIATE_RETRIES,
  }));
  await api.control('db-users', { tenantId: TENANT });
}, 120_000);

afterAll(async () => {
  api?.destroy();
  await stack?.stop();
});

interface Run {
  status: string;
  error?: string;
  cause?: Record<string, unknown>;
  output?: Record<string, unknown>;
  events: HistoryEvent[];
}

/** Runs one query to its end, its statement (marked `marker`) taking `seconds` when given. */
async function run(input: Record<string, unknown>, hold?: { marker: string; seconds: number }) {
  if (hold)
    await api.control('statements/hold', { sqlContains: hold.marker, seconds: hold.seconds });
  const executionArn = await api.start(randomUUID(), { tenantId: TENANT, ...input });
  await stack.stepFunctions.drain();
  const ended = await api.describe(executionArn);
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await api.sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return { ...ended, events } satisfies Run;
}

const entered = (events: HistoryEvent[]) =>
  events.flatMap((e) =>
    e.stateEnteredEventDetails?.name ? [e.stateEnteredEventDetails.name] : [],
  );

async function statementStatus(statementId: unknown) {
  const described = await api.redshiftData.send(
    new DescribeStatementCommand({ Id: String(statementId) }),
  );
  return described;
}

/** The tenant's session records: none leased, whatever the query did. */
async function leasedSessions() {
  const records = await api.sessionRecords();
  return records.filter((r) => r.tenant_id === TENANT && r.state === 'LEASED');
}

describe('Long queries: timeoutSeconds', () => {
  it('cancels a query that outlives its timeout, ends QueryTimeoutError and gives the lease back', async () => {
    // Act: a statement of 10 minutes, a timeout of 2
    const ended = await run(
      { sql: 'select 1 as n /* runaway-1 */', timeoutSeconds: 120 },
      { marker: 'runaway-1', seconds: 600 },
    );

    // Assess
    expect(ended.status).toBe('FAILED');
    expect(ended.error).toBe('QueryTimeoutError');
    expect(String(ended.cause?.message)).toContain('ran past its timeout (timeoutSeconds 120');
    expect(entered(ended.events)).toContain(STATES.poll);
    const statement = await statementStatus(ended.cause?.statementId);
    expect(statement.Status).toBe('ABORTED');
    // Cancelled at the deadline: two minutes after the execution started, give or take a poll.
    const started = Number(ended.events[0]?.timestamp);
    const cancelledAt = statement.UpdatedAt?.getTime() ?? 0;
    expect(cancelledAt - started).toBeGreaterThanOrEqual(120_000);
    expect(cancelledAt - started).toBeLessThan(122_000);
    expect(await leasedSessions()).toEqual([]);
  });

  it("does so also when the timeout falls inside Submit Query's long-poll", async () => {
    const ended = await run(
      { sql: 'select 1 as n /* runaway-2 */', timeoutSeconds: 3 },
      { marker: 'runaway-2', seconds: 600 },
    );

    expect(ended.error).toBe('QueryTimeoutError');
    // Submit Query waited on the server no further than the deadline, then cancelled.
    expect(entered(ended.events)).not.toContain(STATES.poll);
    expect((await statementStatus(ended.cause?.statementId)).Status).toBe('ABORTED');
    expect(await leasedSessions()).toEqual([]);
  });
});

describe('Long queries: polling', () => {
  it('sees a 24-hour query through, within a tenth of the history limit and 2 % of its time late', async () => {
    // Act: a minute under the Data API's 24 hours, which bound a statement and a session
    const seconds = 24 * 3600 - 60;
    const ended = await run(
      { sql: 'select 42 as answer /* day-long */', timeoutSeconds: 86_400 },
      { marker: 'day-long', seconds },
    );

    // Assess
    expect(ended.status).toBe('SUCCEEDED');
    expect(ended.output?.rows).toEqual([[42]]);
    expect(ended.events.length).toBeLessThan(2_500);
    const statement = await statementStatus(ended.output?.statementId);
    const finishedAt = statement.UpdatedAt?.getTime() ?? 0;
    const releaseEntered = ended.events.find(
      (e) => e.stateEnteredEventDetails?.name === STATES.release,
    );
    const delayMs = Number(releaseEntered?.timestamp) - finishedAt;
    expect(delayMs).toBeGreaterThanOrEqual(0);
    expect(delayMs).toBeLessThanOrEqual(0.02 * seconds * 1000);
    expect(await leasedSessions()).toEqual([]);
  });
});

describe('Long queries: every state within the limits', () => {
  /** Every state's input and output, every task's result and every cause, as the history has them. */
  function payloadsOf(events: HistoryEvent[]): { bytes: number[]; causes: string[] } {
    const bytes: number[] = [];
    const causes: string[] = [];
    for (const event of events) {
      for (const text of [
        event.stateEnteredEventDetails?.input,
        event.stateExitedEventDetails?.output,
        event.taskScheduledEventDetails?.parameters,
        event.taskSucceededEventDetails?.output,
      ])
        if (text !== undefined) bytes.push(Buffer.byteLength(text, 'utf8'));
      for (const cause of [
        event.taskFailedEventDetails?.cause,
        event.executionFailedEventDetails?.cause,
      ])
        if (cause !== undefined) causes.push(cause);
    }
    return { bytes, causes };
  }

  it('keeps every state of a failing 100 KB statement with a 100 KB error text under 256 KiB', async () => {
    // Act: PostgreSQL quotes the whole value in its error
    const ended = await run({ sql: `select '${'9'.repeat(100_000)}'::int as n` });

    // Assess: the query's own error, not Step Functions' limit
    expect(ended.error).toBe('QueryFailedError');
    expect(String(ended.cause?.redshiftError)).toMatch(
      /^ERROR: value "9{100}.*\[cut: \d+ bytes in all\]$/,
    );
    const { bytes, causes } = payloadsOf(ended.events);
    expect(Math.max(...bytes)).toBeLessThan(STEP_FUNCTIONS_LIMITS.payloadBytes);
    for (const cause of causes) expect(cause.length).toBeLessThanOrEqual(16 * 1024);
    // The SQL is in the execution input, and in no state after Submit Query.
    const afterSubmit = ended.events.filter(
      (e) =>
        e.stateEnteredEventDetails !== undefined &&
        e.stateEnteredEventDetails.name !== STATES.acquire &&
        e.stateEnteredEventDetails.name !== STATES.submit,
    );
    for (const event of afterSubmit)
      expect(event.stateEnteredEventDetails?.input).not.toContain(`select '999`);
  });

  it('keeps a step error of 100 KB of text within the cause limit', async () => {
    // An unknown field named by 100 KB of text: the refusal quotes it.
    const ended = await run({ sql: 'select 1', ['f'.repeat(100_000)]: 1 });

    expect(ended.error).toBe('InvalidInputError');
    const { bytes, causes } = payloadsOf(ended.events);
    expect(Math.max(...bytes)).toBeLessThan(STEP_FUNCTIONS_LIMITS.payloadBytes);
    expect(causes.length).toBeGreaterThan(0);
    for (const cause of causes)
      expect(cause.length).toBeLessThanOrEqual(STEP_FUNCTIONS_LIMITS.causeCharacters);
  });
});

describe('Long queries: placeholders against parameters', () => {
  it.each([
    [
      'a parameter the SQL does not use',
      { sql: 'select 1', parameters: [{ name: 'region', value: 'eu' }] },
      'parameters region is not used in the SQL',
    ],
    [
      'a placeholder without a parameter',
      { sql: 'select * from sales where region = :region' },
      'the SQL refers to :region, but parameters has no region',
    ],
  ])(
    'fails %s with InvalidInputError naming it, leasing nothing and running nothing',
    async (_, input, named) => {
      // Prepare
      const before = await api.counters();
      const recordsBefore = (await api.sessionRecords()).filter((r) => r.tenant_id === TENANT);

      // Act
      const ended = await run(input);

      // Assess
      expect(ended.error).toBe('InvalidInputError');
      expect(String(ended.cause?.message)).toContain(named);
      const after = await api.counters();
      expect(after.redshiftData.statementsSubmitted).toBe(before.redshiftData.statementsSubmitted);
      expect((await api.sessionRecords()).filter((r) => r.tenant_id === TENANT)).toEqual(
        recordsBefore,
      );
      expect(entered(ended.events)).not.toContain(STATES.submit);
    },
  );
});
