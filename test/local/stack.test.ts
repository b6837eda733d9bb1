import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  InvalidArn,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  LOCAL_SESSIONS_TABLE_NAME,
} from '../../local/identity.ts';
import type { LocalStack } from '../../local/stack.ts';
import type { CountersResponse } from '../../local/test-controls.ts';
import { QUERY_DEFINITION_FILE, SHORT_QUERY_PATH, STATES } from '../../statemachine/definition.ts';
import { poolItemsOf } from '../support/dynamodb.ts';
import { IMMEDIATE_RETRIES, startTestStack } from '../support/local-stack.ts';

/**
 * The whole local stack over HTTP, with the real SDK clients: the workflow's scenarios through
 * StartExecution and DescribeExecution, with GetExecutionHistory checked for the states passed.
 *
 * Longer than most files on purpose: every scenario shares the one local stack the file starts
 * (PGlite, dynalite, the functions: seconds to start), which a split would start once per file
 * (split by behaviour into four files, they took 31 s against 15 s for this one).
 */

// Short long-polls, so that a held query loops through PollStatus.
process.env.SPECTRA_SUBMIT_WAIT_SECONDS = '1';
process.env.SPECTRA_POLL_WAIT_SECONDS = '1';
process.env.SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME = LOCAL_SESSIONS_TABLE_NAME;

let stack: LocalStack;
let sfn: SFNClient;
let ddb: DynamoDBDocumentClient;

beforeAll(async () => {
  stack = await startTestStack({ retryIntervalOverrides: IMMEDIATE_RETRIES });
  const config = { endpoint: stack.url, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  sfn = new SFNClient(config);
  ddb = DynamoDBDocumentClient.from(new DynamoDBClient(config));
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

interface Described {
  executionArn: string;
  status: string;
  output?: Record<string, unknown>;
  error?: string;
  cause?: Record<string, unknown>;
}

async function waitForEnd(executionArn: string): Promise<Described> {
  for (let i = 0; i < 1200; i++) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') {
      return {
        executionArn,
        status: execution.status ?? '',
        output: execution.output ? JSON.parse(execution.output) : undefined,
        error: execution.error,
        cause: execution.cause ? JSON.parse(execution.cause) : undefined,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${executionArn} did not end within 60 s`);
}

async function start(input: unknown, name: string = randomUUID()): Promise<string> {
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: stack.stateMachineArn,
      name,
      input: JSON.stringify(input),
    }),
  );
  return executionArn as string;
}

const run = async (input: unknown) => waitForEnd(await start(input));

async function history(executionArn: string): Promise<HistoryEvent[]> {
  const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
  return events ?? [];
}

const statesEntered = (events: HistoryEvent[]) =>
  events
    .filter((e) => e.type?.endsWith('StateEntered'))
    .map((e) => e.stateEnteredEventDetails?.name);

async function counters(): Promise<CountersResponse> {
  const response = await fetch(`${stack.url}/_spectra/counters`);
  return (await response.json()) as CountersResponse;
}

const pause = () => new Promise((resolve) => setTimeout(resolve, 20));

/** Waits until the counters show what `check` looks for. */
async function untilCounters(check: (now: CountersResponse) => boolean): Promise<void> {
  while (!check(await counters())) await pause();
}

/**
 * Holds the Data API statements whose SQL contains `marker` until `release()`: a query then runs
 * exactly as long as the test needs, however fast or slow the machine is.
 */
async function holdStatements(marker: string) {
  await control('statements/hold', { sqlContains: marker });
  return {
    /** Waits until `count` statements are held. */
    whenHeld: (count: number) => untilCounters((now) => now.redshiftData.statementsHeld >= count),
    release: () => control('statements/release', { sqlContains: marker }),
  };
}

async function control(path: string, body: unknown) {
  const response = await fetch(`${stack.url}/_spectra/${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
}

const pool = (tenantId: string) => poolItemsOf(ddb, LOCAL_SESSIONS_TABLE_NAME, tenantId);

describe('Local stack: the workflow over HTTP', () => {
  it('runs a query, then reuses its session for the next one of the tenant', async () => {
    // Prepare
    const before = await counters();

    // Act
    const first = await run({ tenantId: 'acme', sql: 'select count(*) as sales from sales' });
    const second = await run({ tenantId: 'acme', sql: 'select count(*) as sales from sales' });

    // Assess
    expect(first.status).toBe('SUCCEEDED');
    expect(first.output).toEqual(
      expect.objectContaining({
        tenantId: 'acme',
        sessionReused: false,
        columns: [{ name: 'sales', type: 'int8' }],
        rowCount: 1,
      }),
    );
    expect(second.output).toEqual(
      expect.objectContaining({ sessionReused: true, sessionId: first.output?.sessionId }),
    );
    expect(second.output?.rows).toEqual(first.output?.rows);
    const after = await counters();
    expect(after.redshiftData.sessionsOpened - before.redshiftData.sessionsOpened).toBe(1);
    const events = await history(second.executionArn);
    expect(statesEntered(events)).toEqual(SHORT_QUERY_PATH);
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        'ExecutionStarted',
        'TaskScheduled',
        'TaskSucceeded',
        'ExecutionSucceeded',
      ]),
    );
    expect(events.every((e, i) => e.id === i + 1 && e.previousEventId === i)).toBe(true);
  });

  it('recovers through InvalidateSession when the session was expired behind its back', async () => {
    // Prepare
    const first = await run({ tenantId: 'globex', sql: 'select 1 as one' });
    await control('sessions/expire', { sessionId: first.output?.sessionId });

    // Act
    const second = await run({ tenantId: 'globex', sql: 'select 1 as one' });

    // Assess
    expect(second.status).toBe('SUCCEEDED');
    expect(second.output?.sessionId).not.toBe(first.output?.sessionId);
    expect(statesEntered(await history(second.executionArn))).toContain(STATES.invalidate);
    expect((await pool('globex')).map((r) => r.session_id)).toEqual([second.output?.sessionId]);
  });

  it("fails a bad query with QueryFailedError and the engine's message, and releases the lease", async () => {
    const result = await run({ tenantId: 'initech', sql: 'select * from no_such_table' });

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('QueryFailedError');
    expect(result.cause).toEqual(
      expect.objectContaining({ statementId: expect.any(String), tenantId: 'initech' }),
    );
    expect(String(result.cause?.redshiftError)).toContain('no_such_table');
    expect(await pool('initech')).toEqual([expect.objectContaining({ state: 'IDLE' })]);
  });

  it('two concurrent queries of one tenant: short queries run on its one session, one after the other, never a busy one', async () => {
    // Prepare: the tenant has one idle session. The first query's statement is held until the
    // second is in Acquire Session, reserving the slots of a session of its own (its read of the
    // cluster's slots is held too; the first reads the table no more once it holds its lease), so
    // the first gives the session back before the second opens one, however slow the machine
    const tenantId = 'umbrella';
    const marker = `hold-${randomUUID()}`;
    const sql = `select 1 as done -- ${marker}`;
    const poolRead = 'DynamoDB_20120810.Query';
    await run({ tenantId, sql: 'select 1' });
    const before = await counters();
    const held = await holdStatements(marker);

    // Act
    const first = await start({ tenantId, sql });
    await held.whenHeld(1);
    await control('holds', { target: poolRead, after: 1 });
    const second = await start({ tenantId, sql });
    await untilCounters((now) => now.held[poolRead] === 1);
    await held.release();
    const a = await waitForEnd(first);
    await control('holds/release', { target: poolRead });
    const b = await waitForEnd(second);

    // Assess
    expect([a.status, b.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(a.output?.sessionId).toBe(b.output?.sessionId);
    const after = await counters();
    expect(after.redshiftData.sessionsOpened - before.redshiftData.sessionsOpened).toBe(0);
    expect(after.redshiftData.busyRejections).toBe(before.redshiftData.busyRejections);
  });

  it('two concurrent queries of one tenant: queries that hold the session get a session each, never a busy one', async () => {
    // Prepare: the tenant has one idle session, and each query's statement is held until both
    // run, so the first holds its session while the second opens one
    const tenantId = 'initech';
    const marker = `hold-${randomUUID()}`;
    const sql = `select 1 as done -- ${marker}`;
    await run({ tenantId, sql: 'select 1' });
    const before = await counters();
    const held = await holdStatements(marker);

    // Act
    const both = Promise.all([run({ tenantId, sql }), run({ tenantId, sql })]);
    await held.whenHeld(2);
    await held.release();
    const [a, b] = await both;

    // Assess
    expect([a.status, b.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(a.output?.sessionId).not.toBe(b.output?.sessionId);
    const after = await counters();
    expect(after.redshiftData.sessionsOpened - before.redshiftData.sessionsOpened).toBe(1);
    expect(after.redshiftData.busyRejections).toBe(before.redshiftData.busyRejections);
  });

  it('keeps tenants apart: own sessions, and row-level security on the demo data', async () => {
    const sql = 'select count(distinct tenant_id) as tenants, min(tenant_id) as tenant from sales';

    const acme = await run({ tenantId: 'acme', sql });
    const globex = await run({ tenantId: 'globex', sql });

    expect(acme.output?.rows).toEqual([[1, 'acme']]);
    expect(globex.output?.rows).toEqual([[1, 'globex']]);
    expect(acme.output?.sessionId).not.toBe(globex.output?.sessionId);
  });

  it('fails invalid input with InvalidInputError without a DynamoDB or Data API call', async () => {
    // Prepare
    const before = await counters();

    // Act
    const result = await run({ tenantId: 'acme/../globex', sql: '' });

    // Assess
    expect(result.error).toBe('InvalidInputError');
    expect(String(result.cause?.message)).toContain('tenantId must be 1-63 characters');
    const after = await counters();
    const touched = (prefix: string) =>
      Object.entries(after.calls)
        .filter(([target]) => target.startsWith(prefix))
        .reduce((sum, [target, n]) => sum + n - (before.calls[target] ?? 0), 0);
    expect(touched('DynamoDB_20120810.')).toBe(0);
    expect(touched('RedshiftData.')).toBe(0);
  });

  it('runs an INSERT once when Submit is retried after its response was lost', async () => {
    // Prepare
    expect(
      (await run({ tenantId: 'acme', sql: 'create table if not exists audit_once (id int)' }))
        .status,
    ).toBe('SUCCEEDED');
    await control('faults', {
      target: 'Lambda.SubmitQuery',
      error: 'Lambda.ServiceException',
      afterInvoke: true,
    });
    const before = await counters();

    // Act
    const insert = await run({ tenantId: 'acme', sql: 'insert into audit_once values (42)' });

    // Assess
    expect(insert.status).toBe('SUCCEEDED');
    const after = await counters();
    const executeCalls = (c: typeof before) => c.calls['RedshiftData.ExecuteStatement'] ?? 0;
    expect(executeCalls(after) - executeCalls(before)).toBe(2);
    expect(after.redshiftData.statementsSubmitted - before.redshiftData.statementsSubmitted).toBe(
      1,
    );
    const count = await run({
      tenantId: 'acme',
      sql: 'select count(*) from audit_once where id = 42',
    });
    expect(count.output?.rows).toEqual([[1]]);
  });

  it('loops through PollStatus until a slow query ends, then returns its rows', async () => {
    // The statement is held until the execution has polled twice.
    const marker = `hold-${randomUUID()}`;
    const held = await holdStatements(marker);
    const executionArn = await start({
      tenantId: 'initech',
      sql: `select n from generate_series(1, 3) as n -- ${marker}`,
    });
    while (statesEntered(await history(executionArn)).filter((s) => s === STATES.poll).length < 2)
      await pause();
    await held.release();
    const result = await waitForEnd(executionArn);

    expect(result.status).toBe('SUCCEEDED');
    expect(result.output?.rows).toEqual([[1], [2], [3]]);
    const polls = statesEntered(await history(result.executionArn)).filter(
      (s) => s === STATES.poll,
    );
    expect(polls.length).toBeGreaterThanOrEqual(2);
  });

  it('stops an execution: ABORTED, its statement cancelled and its lease released', async () => {
    // Prepare: a query whose statement runs (held) until it is stopped
    const marker = `hold-${randomUUID()}`;
    const held = await holdStatements(marker);
    const executionArn = await start({ tenantId: 'umbrella', sql: `select 1 -- ${marker}` });
    await held.whenHeld(1);

    // Act
    await sfn.send(
      new StopExecutionCommand({
        executionArn,
        error: 'UserCancelled',
        cause: 'not needed any more',
      }),
    );
    await held.release();

    // Assess
    const stopped = await waitForEnd(executionArn);
    expect(stopped.status).toBe('ABORTED');
    const events = await history(executionArn);
    expect(events.at(-1)).toEqual(
      expect.objectContaining({
        type: 'ExecutionAborted',
        executionAbortedEventDetails: { error: 'UserCancelled', cause: 'not needed any more' },
      }),
    );
    expect((await pool('umbrella')).every((r) => r.state === 'IDLE')).toBe(true);
  });
});

describe('Local stack: the Step Functions API', () => {
  it('lists and describes the spectra-query state machine with its functions substituted', async () => {
    const { stateMachines } = await sfn.send(new ListStateMachinesCommand({}));
    expect(stateMachines?.map((s) => s.name)).toContain('spectra-query');

    const described = await sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: stack.stateMachineArn }),
    );
    expect(described.status).toBe('ACTIVE');
    expect(described.definition).not.toContain('${');
    expect(JSON.parse(described.definition ?? '{}').StartAt).toBe(STATES.acquire);
  });

  it('starts the same execution again for the same name and input, and refuses other input', async () => {
    // Prepare
    // Prepare: the first execution runs (its statement held) until the test is done with it
    const name = `same-${randomUUID()}`;
    const marker = `hold-${randomUUID()}`;
    const held = await holdStatements(marker);
    const input = { tenantId: 'globex', sql: `select 1 -- ${marker}` };

    // Act
    const first = await start(input, name);
    const again = await start(input, name);

    // Assess
    expect(again).toBe(first);
    await expect(start({ ...input, sql: 'select 2' }, name)).rejects.toBeInstanceOf(
      ExecutionAlreadyExists,
    );
    await held.release();
    await waitForEnd(first);
  });

  it('lists executions by status, newest first, page by page', async () => {
    const failed = await run({ tenantId: 'acme', sql: 'select nonsense from nowhere' });

    const page = await sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: stack.stateMachineArn,
        statusFilter: 'FAILED',
        maxResults: 1,
      }),
    );

    expect(page.executions?.map((e) => e.executionArn)).toEqual([failed.executionArn]);
    expect(page.executions?.[0]?.status).toBe('FAILED');
  });

  it("answers unknown executions and malformed ARNs with AWS's errors", async () => {
    const missing = `${stack.stateMachineArn.replace(':stateMachine:', ':execution:')}:nope`;
    await expect(
      sfn.send(new DescribeExecutionCommand({ executionArn: missing })),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(
      sfn.send(new DescribeExecutionCommand({ executionArn: 'not-an-arn' })),
    ).rejects.toBeInstanceOf(InvalidArn);
  });

  it('answers an unknown X-Amz-Target with UnknownOperationException', async () => {
    const response = await fetch(stack.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'Nope.DoThing' },
      body: '{}',
    });

    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(await response.json()).toEqual(
      expect.objectContaining({ __type: 'UnknownOperationException' }),
    );
  });
});

/** How many times a step runs when TransientServiceError outlasts its retries: once, plus each retry. */
function attemptsOf(stateName: string): number {
  const definition = JSON.parse(readFileSync(QUERY_DEFINITION_FILE, 'utf8')) as {
    States: Record<string, { Retry?: { ErrorEquals: string[]; MaxAttempts?: number }[] }>;
  };
  const retry = definition.States[stateName]?.Retry?.find((rule) =>
    rule.ErrorEquals.includes('TransientServiceError'),
  );
  return 1 + (retry?.MaxAttempts ?? 3);
}

describe('Local stack: redriving a failed query', () => {
  it("redrives a query that failed in Fetch Results to its statement's rows, without running the SQL again", async () => {
    // Prepare: Fetch Results fails through every retry
    await control('faults', {
      target: 'Lambda.FetchResults',
      error: 'TransientServiceError',
      count: attemptsOf(STATES.fetch),
    });
    const before = await counters();
    const failed = await run({ tenantId: 'acme', sql: 'select count(*) as sales from sales' });
    expect([failed.status, failed.error]).toEqual(['FAILED', 'TransientServiceError']);
    expect(await pool('acme')).not.toContainEqual(expect.objectContaining({ state: 'LEASED' }));

    // Act
    const { redriveDate } = await sfn.send(
      new RedriveExecutionCommand({ executionArn: failed.executionArn }),
    );
    const redriven = await waitForEnd(failed.executionArn);

    // Assess
    expect(redriven.status).toBe('SUCCEEDED');
    expect(redriven.output?.rows).toEqual([[expect.any(Number)]]);
    const described = await sfn.send(
      new DescribeExecutionCommand({ executionArn: failed.executionArn }),
    );
    expect(described).toEqual(
      expect.objectContaining({ redriveCount: 1, redriveDate, redriveStatus: 'NOT_REDRIVABLE' }),
    );
    const after = await counters();
    expect(after.redshiftData.statementsSubmitted - before.redshiftData.statementsSubmitted).toBe(
      1,
    );
    const events = await history(failed.executionArn);
    const types = events.map((e) => e.type);
    expect(types.indexOf('ExecutionRedriven')).toBe(types.indexOf('ExecutionFailed') + 1);
    // Nothing before Fetch Results ran again, and Fetch Results went on where it failed.
    expect(statesEntered(events)).toEqual(SHORT_QUERY_PATH);
  });

  it('redrives a query that failed while polling: its statement ran on, and the redrive reads it', async () => {
    // Prepare: the statement is held while Poll Status fails through every retry
    const marker = `hold-${randomUUID()}`;
    const held = await holdStatements(marker);
    const executionArn = await start({
      tenantId: 'globex',
      sql: `select 42 as answer -- ${marker}`,
    });
    await held.whenHeld(1);
    await control('faults', {
      target: 'Lambda.PollStatus',
      error: 'TransientServiceError',
      count: attemptsOf(STATES.poll),
    });
    const failed = await waitForEnd(executionArn);
    expect([failed.status, failed.error]).toEqual(['FAILED', 'TransientServiceError']);
    // The clean-up of failed executions dropped the busy session rather than leave it leased.
    expect(await pool('globex')).not.toContainEqual(expect.objectContaining({ state: 'LEASED' }));
    const before = await counters();

    // Act
    await held.release();
    await sfn.send(new RedriveExecutionCommand({ executionArn }));
    const redriven = await waitForEnd(executionArn);

    // Assess
    expect(redriven.status).toBe('SUCCEEDED');
    expect(redriven.output?.rows).toEqual([[42]]);
    const after = await counters();
    expect(after.redshiftData.statementsSubmitted).toBe(before.redshiftData.statementsSubmitted);
  });

  it('redrives a query that failed for its SQL to the same failure: the Fail state runs again', async () => {
    const failed = await run({ tenantId: 'initech', sql: 'select * from still_no_such_table' });
    const before = await counters();

    await sfn.send(new RedriveExecutionCommand({ executionArn: failed.executionArn }));
    const again = await waitForEnd(failed.executionArn);

    expect([again.status, again.error]).toEqual(['FAILED', 'QueryFailedError']);
    expect(again.cause).toEqual(failed.cause);
    const after = await counters();
    expect(after.redshiftData.statementsSubmitted).toBe(before.redshiftData.statementsSubmitted);
    const types = (await history(failed.executionArn)).map((e) => e.type);
    expect(types.slice(-2)).toEqual(['ExecutionRedriven', 'ExecutionFailed']);
  });
});

/** A GET as a browser would send it, with the Host and Origin headers the test chooses. */
function get(path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const sent = request(`${stack.url}${path}`, { headers }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    sent.on('error', reject);
    sent.end();
  });
}

describe('Local stack: only this machine drives it from a browser', () => {
  const own = () => `127.0.0.1:${stack.port}`;

  it.each(['/console', '/console/api/executions', '/_spectra/counters'])(
    'answers %s for a loopback Host and Origin, and refuses a foreign Host or Origin with 403',
    async (path) => {
      expect(await get(path, { host: own(), origin: `http://${own()}` })).toBe(200);
      expect(await get(path, { host: `localhost:${stack.port}` })).toBe(200);
      // DNS rebinding: a foreign name that now points here.
      expect(await get(path, { host: `attacker.example:${stack.port}` })).toBe(403);
      // Another loopback port is another origin.
      expect(await get(path, { host: `127.0.0.1:${stack.port + 1}` })).toBe(403);
      // A script on a page elsewhere.
      expect(await get(path, { host: own(), origin: 'http://attacker.example' })).toBe(403);
      expect(await get(path, { host: own(), origin: 'null' })).toBe(403);
    },
  );

  it("answers the console's JSON with AWS's view of an execution, and a bad filter with 400", async () => {
    const { executionArn } = await run({ tenantId: 'acme', sql: 'select 1 as one' });

    const detail = await fetch(
      `${stack.url}/console/api/executions/${encodeURIComponent(executionArn)}`,
    );
    const badFilter = await fetch(`${stack.url}/console/api/executions?status=NOPE`);
    const missing = await fetch(
      `${stack.url}/console/api/executions/${encodeURIComponent(`${executionArn}-nope`)}`,
    );

    expect(detail.status).toBe(200);
    const body = (await detail.json()) as {
      query: { status: string; tenantId: string };
      timeline: { state: string }[];
      events: { type: string }[];
    };
    expect([body.query.status, body.query.tenantId]).toEqual(['SUCCEEDED', 'acme']);
    expect(body.timeline.map((visit) => visit.state)).toEqual(SHORT_QUERY_PATH);
    expect(body.events.at(-1)?.type).toBe('ExecutionSucceeded');
    expect(badFilter.status).toBe(400);
    expect(((await badFilter.json()) as { message: string }).message).toContain(
      'status must be one of RUNNING, SUCCEEDED',
    );
    expect(missing.status).toBe(404);
  });

  it('refuses an AWS API call from a foreign page, and serves the SDK, which sends no Origin', async () => {
    const call = (headers: Record<string, string>) =>
      fetch(stack.url, {
        method: 'POST',
        headers: {
          'x-amz-target': 'AWSStepFunctions.ListStateMachines',
          'content-type': 'application/x-amz-json-1.0',
          ...headers,
        },
        body: '{}',
      });

    expect((await call({ origin: 'http://attacker.example' })).status).toBe(403);
    expect((await call({ origin: `http://127.0.0.1:${stack.port}` })).status).toBe(200);
    expect((await call({})).status).toBe(200);
  });
});
