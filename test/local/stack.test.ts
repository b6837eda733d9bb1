import { randomUUID } from 'node:crypto';
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
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DB_USER_TEMPLATE, dbUserFor } from '../../functions/common/config.ts';
import { poolIdOf } from '../../functions/common/session-store.ts';
import type { LocalStack } from '../../local/stack.ts';

/**
 * The whole local stack over HTTP, with the real SDK clients: the workflow's scenarios through
 * StartExecution and DescribeExecution, with GetExecutionHistory checked for the states passed.
 */

// Short long-polls, so that a three-second query loops through PollStatus a few times.
process.env.SPECTRA_SUBMIT_WAIT_SECONDS = '1';
process.env.SPECTRA_POLL_WAIT_SECONDS = '1';
process.env.SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME = 'spectra-sessions';

let stack: LocalStack;
let sfn: SFNClient;
let ddb: DynamoDBDocumentClient;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

beforeAll(async () => {
  const { startLocalStack } = await import('../../local/stack.ts');
  stack = await startLocalStack({ port: 0, waitTimeOverrides: { 'Wait For Query': 0 } });
  sfn = new SFNClient({ endpoint: stack.url, region: 'us-east-1', credentials });
  ddb = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack.url, region: 'us-east-1', credentials }),
  );
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

async function counters() {
  const response = await fetch(`${stack.url}/_spectra/counters`);
  return (await response.json()) as {
    calls: Record<string, number>;
    lambdaInvocations: Record<string, number>;
    redshiftData: { statementsSubmitted: number; sessionsOpened: number; busyRejections: number };
  };
}

async function control(path: string, body: unknown) {
  const response = await fetch(`${stack.url}/_spectra/${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
}

async function pool(tenantId: string) {
  const result = await ddb.send(
    new QueryCommand({
      TableName: 'spectra-sessions',
      KeyConditionExpression: 'pool_id = :p',
      ExpressionAttributeValues: {
        ':p': poolIdOf(tenantId, dbUserFor(tenantId, DEFAULT_DB_USER_TEMPLATE)),
      },
      ConsistentRead: true,
    }),
  );
  return (result.Items ?? []) as { session_id: string; state: string }[];
}

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
    expect(statesEntered(events)).toEqual([
      'Acquire Session',
      'Submit Query',
      'Query Finished?',
      'Release Session',
      'Fetch Results',
      'Query Succeeded',
    ]);
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
    expect(statesEntered(await history(second.executionArn))).toContain('Invalidate Session');
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

  it.each([
    {
      case: 'short queries run on its one session, one after the other',
      tenantId: 'umbrella',
      sql: 'select 1 as done',
      sessionsOpened: 0,
    },
    {
      // Each statement outlasts AcquireSession's wait (1 s), with room for the second execution to
      // start its Acquire up to 1.5 s after the first took the session on a loaded machine.
      case: 'queries that hold the session past the wait get a session each',
      tenantId: 'initech',
      sql: 'select pg_sleep(2.5), 1 as done',
      sessionsOpened: 1,
    },
  ])(
    'two concurrent queries of one tenant: $case, never a busy one',
    async ({ tenantId, sql, sessionsOpened }) => {
      // Prepare: the tenant has one idle session
      await run({ tenantId, sql: 'select 1' });
      const before = await counters();

      // Act
      const [a, b] = await Promise.all([run({ tenantId, sql }), run({ tenantId, sql })]);

      // Assess
      expect([a.status, b.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
      expect(a.output?.sessionId === b.output?.sessionId).toBe(sessionsOpened === 0);
      const after = await counters();
      expect(after.redshiftData.sessionsOpened - before.redshiftData.sessionsOpened).toBe(
        sessionsOpened,
      );
      expect(after.redshiftData.busyRejections).toBe(before.redshiftData.busyRejections);
    },
  );

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
    const result = await run({
      tenantId: 'initech',
      sql: 'select n from (select pg_sleep(3)) as pause, generate_series(1, 3) as n',
    });

    expect(result.status).toBe('SUCCEEDED');
    expect(result.output?.rows).toEqual([[1], [2], [3]]);
    const polls = statesEntered(await history(result.executionArn)).filter(
      (s) => s === 'Poll Status',
    );
    expect(polls.length).toBeGreaterThanOrEqual(2);
  });

  it('stops an execution: ABORTED, its statement cancelled and its lease released', async () => {
    // Prepare: a query that runs long enough to be stopped mid-way
    const executionArn = await start({ tenantId: 'umbrella', sql: 'select pg_sleep(2)' });
    for (
      let i = 0;
      i < 100 && !(await history(executionArn)).some((e) => e.type === 'TaskSucceeded');
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // Act
    await sfn.send(
      new StopExecutionCommand({
        executionArn,
        error: 'UserCancelled',
        cause: 'not needed any more',
      }),
    );

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
    expect(JSON.parse(described.definition ?? '{}').StartAt).toBe('Acquire Session');
  });

  it('starts the same execution again for the same name and input, and refuses other input', async () => {
    // Prepare
    const name = `same-${randomUUID()}`;
    const input = { tenantId: 'globex', sql: 'select pg_sleep(0.5)' };

    // Act
    const first = await start(input, name);
    const again = await start(input, name);

    // Assess
    expect(again).toBe(first);
    await expect(start({ ...input, sql: 'select 2' }, name)).rejects.toBeInstanceOf(
      ExecutionAlreadyExists,
    );
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
