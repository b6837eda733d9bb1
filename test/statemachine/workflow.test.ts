import { randomUUID } from 'node:crypto';
import { GetStatementResultCommand, RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LambdaHandler } from '../../functions/common/handler.ts';
import { loadHandlers, type WorkflowFunctionName } from '../../functions/registry.ts';
import { LOCAL_STATE_MACHINE_NAME } from '../../local/identity.ts';
import { LambdaInvocationError } from '../../local/stepfunctions/lambda-invoker.ts';
import {
  type EventLog,
  type ExecutionOutcome,
  loadLocalDefinition,
  startLocalExecution,
} from '../../local/stepfunctions/local-execution.ts';
import { SHORT_QUERY_PATH, STATES, TASK_STATES } from '../../statemachine/definition.ts';
import { poolItemsOf, startDynamoDb } from '../support/dynamodb.ts';
import { column, FakeDataApi, type ScriptedStatement } from '../support/fake-data-api.ts';

/**
 * statemachine/query.asl.json executed by aws-local-stepfunctions, each Task invoking the real
 * Middy handler: DynamoDB is dynalite in memory, the Data API a stateful fake at the SDK level.
 */

const TABLE = 'spectra-sessions-workflow';
const redshift = mockClient(RedshiftDataClient);

/** SQL texts the fake Data API knows. */
const SCRIPTS: Record<string, ScriptedStatement> = {
  'select 1': { columns: [column('?column?', 'int4')], records: [[{ longValue: 1 }]] },
  'select * from nope': { error: 'ERROR: relation "nope" does not exist' },
  'select slowly': {
    // Submit Query's long-poll, then five of Poll Status
    pollsUntilDone: 6,
    columns: [column('id', 'int4'), column('name', 'varchar')],
    records: [1, 2, 3, 4, 5].map((id) => [{ longValue: id }, { stringValue: `row ${id}` }]),
  },
  'select while another runs': {
    pollsUntilDone: 3,
    columns: [column('n', 'int4')],
    records: [[{ longValue: 7 }]],
  },
  'cancelled elsewhere': { pollsUntilDone: 1, aborted: true },
};

let dynamo: Awaited<ReturnType<typeof startDynamoDb>>;
let handlers: Record<WorkflowFunctionName, LambdaHandler>;
let definition: object;
let fake: FakeDataApi;
let addMetric: ReturnType<typeof vi.fn>;

beforeAll(async () => {
  dynamo = await startDynamoDb(TABLE);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  process.env.SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME = TABLE;
  handlers = await loadHandlers();
  definition = loadLocalDefinition();
  const { metrics } = await import('#common/observability');
  addMetric = vi.spyOn(metrics, 'addMetric') as unknown as ReturnType<typeof vi.fn>;
});

afterAll(async () => {
  await dynamo.close();
});

beforeEach(() => {
  redshift.reset();
  fake = new FakeDataApi((sql) => SCRIPTS[sql] ?? {});
  fake.install(redshift);
  addMetric.mockClear();
});

interface Run {
  outcome: ExecutionOutcome;
  events: EventLog[];
  statesEntered: string[];
  lambdaInvocations: number;
}

type InvokeHook = Parameters<typeof startLocalExecution>[1]['onInvoke'];

async function runQuery(input: unknown, onInvoke?: InvokeHook): Promise<Run> {
  let lambdaInvocations = 0;
  const execution = startLocalExecution(definition, {
    stateMachineName: LOCAL_STATE_MACHINE_NAME,
    executionName: randomUUID(),
    input,
    handlers,
    waitTimeOverrides: { [STATES.waitForQuery]: 0 },
    retryIntervalOverrides: Object.fromEntries(TASK_STATES.map((state) => [state, 0])),
    onInvoke: async (call) => {
      lambdaInvocations++;
      return onInvoke ? onInvoke(call) : call.invoke();
    },
  });
  const outcome = await execution.outcome;
  const statesEntered = execution.events
    .filter((e) => e.type === 'StateEntered')
    .map((e) => (e as { state: { name: string } }).state.name);
  return { outcome, events: execution.events, statesEntered, lambdaInvocations };
}

function output(run: Run) {
  expect(run.outcome.status).toBe('SUCCEEDED');
  return (run.outcome as { output: Record<string, unknown> }).output as {
    tenantId: string;
    sessionId: string | null;
    sessionReused: boolean;
    statementId: string;
    rows: unknown[][];
    columns: { name: string; type: string }[];
    rowCount: number;
    totalRows: number;
    truncated: boolean;
  };
}

const pool = (tenantId: string) =>
  poolItemsOf(DynamoDBDocumentClient.from(dynamo.client), TABLE, tenantId);

const metricCount = (name: string) =>
  addMetric.mock.calls
    .filter(([metric]) => metric === name)
    .reduce((sum, [, , value]) => sum + Number(value), 0);

describe('State machine: query.asl.json with the real handlers', () => {
  it("opens a session on a tenant's first query and reuses it on the second", async () => {
    // Prepare
    const tenantId = 'tenant-a';

    // Act
    const first = output(await runQuery({ tenantId, sql: 'select 1' }));
    const second = output(await runQuery({ tenantId, sql: 'select 1' }));

    // Assess
    expect(first.sessionReused).toBe(false);
    expect(second.sessionReused).toBe(true);
    expect(second.sessionId).toBe(first.sessionId);
    expect(second.rows).toEqual([[1]]);
    expect(metricCount('SessionCreated')).toBe(1);
    expect(metricCount('SessionMiss')).toBe(1);
    expect(metricCount('SessionHit')).toBe(1);
    const reuse = fake.executeInputs[1];
    expect(reuse).toEqual(expect.objectContaining({ SessionId: first.sessionId, Sql: 'select 1' }));
    expect(reuse).not.toHaveProperty('ClusterIdentifier');
    expect(reuse).not.toHaveProperty('Database');
    expect(reuse).not.toHaveProperty('DbUser');
    expect(await pool(tenantId)).toEqual([
      expect.objectContaining({ session_id: first.sessionId, state: 'IDLE' }),
    ]);
  });

  it('drops a session the Data API refused and resubmits on a new one', async () => {
    // Prepare
    const tenantId = 'tenant-b';
    const first = output(await runQuery({ tenantId, sql: 'select 1' }));
    fake.expireSession(first.sessionId as string);

    // Act
    const run = await runQuery({ tenantId, sql: 'select 1' });

    // Assess
    const result = output(run);
    expect(result.sessionId).not.toBe(first.sessionId);
    expect(result.sessionReused).toBe(false);
    expect(run.statesEntered).toContain(STATES.invalidate);
    expect(run.statesEntered.filter((s) => s === STATES.submit)).toHaveLength(2);
    const sessions = (await pool(tenantId)).map((r) => r.session_id);
    expect(sessions).toEqual([result.sessionId]);
    expect(metricCount('SessionInvalidated')).toBe(1);
  });

  it("fails with QueryFailedError and Redshift's message when the SQL fails, and releases the lease", async () => {
    // Prepare
    const tenantId = 'tenant-c';
    output(await runQuery({ tenantId, sql: 'select 1' }));

    // Act
    const run = await runQuery({ tenantId, sql: 'select * from nope' });

    // Assess
    expect(run.outcome).toEqual({
      status: 'FAILED',
      error: 'QueryFailedError',
      cause: expect.any(String),
    });
    const cause = JSON.parse((run.outcome as { cause: string }).cause);
    expect(cause).toEqual(
      expect.objectContaining({
        redshiftError: 'ERROR: relation "nope" does not exist',
        statementId: expect.any(String),
        tenantId,
      }),
    );
    // Redshift's text once, as redshiftError; the message says what happened.
    expect(cause.message).toBe('The statement failed');
    expect(run.statesEntered).toContain(STATES.releaseAfterFailure);
    expect(await pool(tenantId)).toEqual([expect.objectContaining({ state: 'IDLE' })]);
  });

  it('fails with QueryAbortedError when the statement is cancelled, and releases the lease', async () => {
    const tenantId = 'tenant-abort';
    const run = await runQuery({ tenantId, sql: 'cancelled elsewhere' });

    expect(run.outcome).toEqual(
      expect.objectContaining({ status: 'FAILED', error: 'QueryAbortedError' }),
    );
    expect(await pool(tenantId)).toEqual([expect.objectContaining({ state: 'IDLE' })]);
  });

  it('gives a concurrent execution of one tenant a session of its own or the one given back, never the busy one', async () => {
    // Prepare: one idle session in the pool
    const tenantId = 'tenant-d';
    output(await runQuery({ tenantId, sql: 'select 1' }));

    // Act: both want the one session; the second opens a new one while it waits for it and takes
    // whichever is ready first
    const [a, b] = await Promise.all([
      runQuery({ tenantId, sql: 'select while another runs' }),
      runQuery({ tenantId, sql: 'select while another runs' }),
    ]);

    // Assess: never both on one session at once, and the pool keeps what was opened, idle
    const [outA, outB] = [output(a), output(b)];
    expect([outA.sessionReused, outB.sessionReused]).toContain(true);
    expect(fake.busyRejections).toBe(0);
    const sessions = await pool(tenantId);
    expect(sessions.length).toBeLessThanOrEqual(2);
    expect(sessions.map((record) => record.state)).toEqual(sessions.map(() => 'IDLE'));
    expect(sessions.map((record) => record.session_id)).toEqual(
      expect.arrayContaining([outA.sessionId, outB.sessionId]),
    );
  });

  it('opens a second session for a concurrent execution while the busy one stays busy', async () => {
    // Prepare: one idle session in the pool
    const tenantId = 'tenant-e';
    output(await runQuery({ tenantId, sql: 'select 1' }));
    let pollingStarted = () => {};
    const firstPolling = new Promise<void>((resolve) => {
      pollingStarted = resolve;
    });
    let letGo = () => {};
    const held = new Promise<void>((resolve) => {
      letGo = resolve;
    });

    // Act: the first execution's statement keeps its session until the second one has finished
    const first = runQuery({ tenantId, sql: 'select while another runs' }, async (call) => {
      if (call.functionName === 'PollStatus') {
        pollingStarted();
        await held;
      }
      return call.invoke();
    });
    await firstPolling;
    const second = await runQuery({ tenantId, sql: 'select while another runs' });
    letGo();
    const [outA, outB] = [output(await first), output(second)];

    // Assess
    expect(outA.sessionId).not.toBe(outB.sessionId);
    expect([outA.sessionReused, outB.sessionReused]).toEqual([true, false]);
    expect(fake.busyRejections).toBe(0);
    const records = await pool(tenantId);
    expect(records).toHaveLength(2);
    expect(records.every((r) => r.state === 'IDLE')).toBe(true);
  });

  it("never hands one tenant's session to another tenant", async () => {
    // Act
    const a1 = output(await runQuery({ tenantId: 'tenant-e1', sql: 'select 1' }));
    const b1 = output(await runQuery({ tenantId: 'tenant-e2', sql: 'select 1' }));
    const a2 = output(await runQuery({ tenantId: 'tenant-e1', sql: 'select 1' }));
    const b2 = output(await runQuery({ tenantId: 'tenant-e2', sql: 'select 1' }));

    // Assess
    expect(b1.sessionReused).toBe(false);
    expect(a2.sessionId).toBe(a1.sessionId);
    expect(b2.sessionId).toBe(b1.sessionId);
    expect(a1.sessionId).not.toBe(b1.sessionId);
    const dbUserOf = (sessionId: string | null) => fake.sessions.get(sessionId as string)?.dbUser;
    expect(dbUserOf(a1.sessionId)).toBe('tenant_tenant_e1');
    expect(dbUserOf(b1.sessionId)).toBe('tenant_tenant_e2');
  });

  it('fails at Fetch Results with TransientServiceError when the Data API throttles through every retry, leaving the session in the pool', async () => {
    // Prepare: every GetStatementResult is throttled
    const tenantId = 'tenant-throttled';
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $fault: 'client',
    });
    redshift.on(GetStatementResultCommand).rejects(throttled);

    // Act
    const run = await runQuery({ tenantId, sql: 'select 1' });

    // Assess: the step that failed is the last one entered, so a redrive runs Fetch Results again
    expect(run.outcome).toEqual(
      expect.objectContaining({ status: 'FAILED', error: 'TransientServiceError' }),
    );
    expect(run.statesEntered.at(-1)).toBe(STATES.fetch);
    expect(run.statesEntered).not.toContain(STATES.releaseAfterFailure);
    const fetches = redshift.commandCalls(GetStatementResultCommand).length;
    expect(fetches).toBe(5); // the first attempt and 4 retries
    expect(await pool(tenantId)).toEqual([expect.objectContaining({ state: 'IDLE' })]);
  });

  it('fails invalid input with InvalidInputError before touching DynamoDB or the Data API', async () => {
    // Prepare
    const requestsBefore = dynamo.requests.length;

    // Act
    const run = await runQuery({ tenantId: 'Bad Tenant', sql: '   ', extra: true });

    // Assess
    expect(run.outcome).toEqual(
      expect.objectContaining({ status: 'FAILED', error: 'InvalidInputError' }),
    );
    const { message } = JSON.parse((run.outcome as { cause: string }).cause);
    expect(message).toContain('tenantId must be 1-63 characters');
    expect(message).toContain('sql must not be empty');
    expect(message).toContain('unknown field "extra"');
    expect(dynamo.requests.length).toBe(requestsBefore);
    expect(redshift.calls()).toHaveLength(0);
  });

  it('resends the same ClientToken when Submit is retried after its response was lost', async () => {
    // Prepare: the first SubmitQuery reaches the Data API, then its response is lost
    let lost = false;
    const loseFirstSubmitResponse: InvokeHook = async (call) => {
      const result = await call.invoke();
      if (call.functionName === 'SubmitQuery' && !lost) {
        lost = true;
        throw new LambdaInvocationError('Lambda.ServiceException', 'Response lost');
      }
      return result;
    };

    // Act
    const run = await runQuery({ tenantId: 'tenant-g', sql: 'select 1' }, loseFirstSubmitResponse);

    // Assess
    output(run);
    expect(fake.executeInputs).toHaveLength(2);
    const [firstToken, retryToken] = fake.executeInputs.map((input) => input.ClientToken);
    expect(firstToken).toMatch(/^[0-9a-f]{64}$/);
    expect(retryToken).toBe(firstToken);
    expect(fake.statementsRun).toBe(1);
    expect(await pool('tenant-g')).toHaveLength(1);
  });

  it('loops through Wait and Poll until a slow query finishes, then returns every page', async () => {
    // Act
    const run = await runQuery({ tenantId: 'tenant-h', sql: 'select slowly' });

    // Assess
    const result = output(run);
    expect(run.statesEntered.filter((s) => s === STATES.poll)).toHaveLength(5);
    expect(result.rows).toEqual([1, 2, 3, 4, 5].map((id) => [id, `row ${id}`]));
    expect(result.columns).toEqual([
      { name: 'id', type: 'int4' },
      { name: 'name', type: 'varchar' },
    ]);
    expect(result).toEqual(
      expect.objectContaining({ rowCount: 5, totalRows: 5, truncated: false }),
    );
  });

  it('runs a sub-second query in 6 state transitions and at most 3 Data API requests', async () => {
    // Prepare: a warm session
    output(await runQuery({ tenantId: 'tenant-i', sql: 'select 1' }));
    redshift.resetHistory();

    // Act
    const run = await runQuery({ tenantId: 'tenant-i', sql: 'select 1' });

    // Assess
    expect(output(run).sessionReused).toBe(true);
    expect(run.statesEntered).toEqual(SHORT_QUERY_PATH);
    expect(redshift.calls().length).toBeLessThanOrEqual(3);
  });
});
