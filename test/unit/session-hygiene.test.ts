import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { acquireSession } from '../../functions/acquire-session.ts';
import { InvalidInputError, StaleSessionError } from '../../functions/common/errors.ts';
import { leavesSessionState } from '../../functions/common/execution-input.ts';
import type { QueryState } from '../../functions/common/workflow-state.ts';
import { fetchResults } from '../../functions/fetch-results.ts';
import { pollStatus } from '../../functions/poll-status.ts';
import { releaseSession } from '../../functions/release-session.ts';
import { submitQuery } from '../../functions/submit.ts';
import { queryOf, runningState, submitEvent } from '../support/query-state.ts';
import { deletedItem, EXECUTION_ARN, unitDeps } from '../support/unit-deps.ts';

/**
 * How the functions keep pooled sessions clean: what they refuse before a lease, how they run
 * `statements`, which sessions they drop, and the failed-transaction answer of a reused session.
 */

const redshift = mockClient(RedshiftDataClient);
const ddb = mockClient(DynamoDBDocumentClient);

const FAILED_TRANSACTION =
  'ERROR: current transaction is aborted, commands ignored until end of transaction block';

const idleSession = {
  pool_id: 'acme#tenant_acme',
  session_id: 'sess-1',
  tenant_id: 'acme',
  db_user: 'tenant_acme',
  created_at: '2026-11-28T11:00:00.000Z',
  last_used_at: '2026-11-28T11:59:00.000Z',
  expires_at: '2026-11-28T12:59:00.000Z',
  ttl: 0,
  state: 'IDLE',
};

async function refusal(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/** Submit Query's event for `request` (the execution input, which holds the SQL). */
function submitted(
  request: { sql?: string; statements?: string[]; [field: string]: unknown },
  session: QueryState['session'],
) {
  const input = { tenantId: 'acme', ...request };
  return submitEvent(input, {
    query: queryOf({
      leavesSessionState: leavesSessionState(input),
      batchSize: batchSizeOf(input),
    }),
    session,
  });
}

const batchSizeOf = (input: { statements?: string[] }) => input.statements?.length;

const reused = { sessionId: 'sess-1', reused: true, createdAt: '2026-11-28T11:00:00.000Z' };
const miss = { sessionId: null, reused: false };

beforeEach(() => {
  redshift.reset();
  ddb.reset();
  ddb.on(PutCommand).resolves({});
  ddb.on(UpdateCommand).resolves({});
  ddb.on(DeleteCommand).callsFake(deletedItem);
  ddb.on(GetCommand).resolves({});
  ddb.on(QueryCommand).resolves({ Items: [idleSession] });
  // Submit Query's long-poll finds the statement ended.
  redshift.on(DescribeStatementCommand).resolves({ Status: 'FINISHED' });
});

describe('Function: acquireSession', () => {
  const acquire = (request: unknown) =>
    acquireSession({ request, executionArn: EXECUTION_ARN }, unitDeps().deps);

  it.each([
    ['begin', 'BEGIN'],
    ['  -- open one\nSTART TRANSACTION', 'START TRANSACTION'],
    ['insert into t values (1); commit', 'COMMIT'],
  ])(
    'throws InvalidInputError for transaction control in sql (%s), before any call',
    async (sql, command) => {
      const error = await refusal(acquire({ tenantId: 'acme', sql }));

      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error.message).toContain(command);
      expect(error.message).toContain('statements');
      expect(ddb.calls()).toHaveLength(0);
    },
  );

  it('throws InvalidInputError for transaction control inside statements', async () => {
    const error = await refusal(
      acquire({ tenantId: 'acme', statements: ['insert into t values (1)', 'rollback'] }),
    );

    expect(error.message).toContain('statements[1] holds transaction control, ROLLBACK');
  });

  it('throws InvalidInputError naming placeholders without a parameter and parameters never used', async () => {
    const error = await refusal(
      acquire({
        tenantId: 'acme',
        statements: ["select :a, ':quoted' -- :commented", 'select :b::int'],
        parameters: [
          { name: 'a', value: '1' },
          { name: 'unused', value: '2' },
        ],
      }),
    );

    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain('refers to :b, but parameters has no b');
    expect(error.message).toContain('parameters unused is not used');
    expect(error.message).not.toContain('quoted');
    expect(ddb.calls()).toHaveLength(0);
  });

  it.each([
    [{ sql: 'select 1', statements: ['select 1'] }, 'sql and statements cannot both be given'],
    [{ statements: [] }, 'statements must not be empty'],
    [{ statements: Array.from({ length: 41 }, () => 'select 1') }, 'got 41'],
    [{ statements: ['select 1', '  '] }, 'statements[1] must not be empty'],
    [{ sql: 'select 1', transaction: false }, 'transaction applies only to statements'],
    [{}, 'sql is required'],
  ])('throws InvalidInputError for %j', async (fields, message) => {
    const error = await refusal(acquire({ tenantId: 'acme', ...fields }));

    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain(message);
  });

  it('leases an idle session for SQL that leaves state, but does not wait for a busy one', async () => {
    // Prepare: the only session is leased to someone else.
    ddb.on(QueryCommand).resolves({
      Items: [
        {
          ...idleSession,
          state: 'LEASED',
          lease_owner: 'other',
          lease_expires_at: '2026-11-28T12:04:00.000Z',
        },
      ],
    });

    // Act
    const state = await acquire({ tenantId: 'acme', sql: 'set search_path to pg_catalog' });

    // Assess: one read of the pool, no waiting for the lease to come back.
    expect(state.session).toEqual({ sessionId: null, reused: false });
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(1);
  });
});

describe('Function: submitQuery', () => {
  it('runs statements as one BatchExecuteStatement in a transaction, on the leased session', async () => {
    // Prepare
    const { deps } = unitDeps();
    redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'b-1', Status: 'FINISHED' });

    // Act
    await submitQuery(
      submitted(
        {
          statements: ['insert into t values (:v)', 'select * from t'],
          parameters: [{ name: 'v', value: '1' }],
        },
        reused,
      ),
      deps,
    );

    // Assess
    expect(redshift).toReceiveCommandWith(BatchExecuteStatementCommand, {
      Sqls: ['insert into t values (:v)', 'select * from t'],
      Parameters: [{ name: 'v', value: '1' }],
      ExecutionMode: 'TRANSACTION',
      SessionId: 'sess-1',
    });
    expect(redshift.commandCalls(ExecuteStatementCommand)).toHaveLength(0);
  });

  it('sends ExecutionMode AUTO_COMMIT for transaction: false', async () => {
    const { deps } = unitDeps();
    redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'b-1', Status: 'FINISHED' });

    await submitQuery(
      submitted({ statements: ['select 1', 'select 2'], transaction: false }, reused),
      deps,
    );

    expect(redshift).toReceiveCommandWith(BatchExecuteStatementCommand, {
      ExecutionMode: 'AUTO_COMMIT',
    });
  });

  it('runs SQL that leaves state without a session when no pooled one was free', async () => {
    // Prepare
    const { deps } = unitDeps();
    redshift.on(ExecuteStatementCommand).resolves({ Id: 'st-1', Status: 'FINISHED' });

    // Act
    const next = await submitQuery(
      submitted({ sql: 'create temp table t as select 1' }, miss),
      deps,
    );

    // Assess
    const input = redshift.commandCalls(ExecuteStatementCommand)[0]?.args[0].input;
    expect(input?.SessionKeepAliveSeconds).toBeUndefined();
    expect(input?.SessionId).toBeUndefined();
    expect(next.session).toEqual({ sessionId: null, reused: false, sessionless: true });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('throws StaleSessionError when a reused session answers that its transaction failed', async () => {
    const { deps } = unitDeps();
    redshift.on(ExecuteStatementCommand).resolves({ Id: 'st-1', Status: 'FAILED' });
    redshift
      .on(DescribeStatementCommand)
      .resolves({ Id: 'st-1', Status: 'FAILED', Error: FAILED_TRANSACTION });

    const error = await refusal(submitQuery(submitted({ sql: 'select 1' }, reused), deps));

    expect(error).toBeInstanceOf(StaleSessionError);
    expect(error.message).toContain('failed transaction');
  });

  it('reports the same error on a session it opened as the statement failing', async () => {
    const { deps } = unitDeps();
    redshift
      .on(ExecuteStatementCommand)
      .resolves({ Id: 'st-1', SessionId: 'new', Status: 'FAILED' });
    redshift
      .on(DescribeStatementCommand)
      .resolves({ Id: 'st-1', Status: 'FAILED', Error: FAILED_TRANSACTION });

    const next = await submitQuery(submitted({ sql: 'select 1' }, miss), deps);

    expect(next.statement).toEqual(
      expect.objectContaining({ status: 'FAILED', error: FAILED_TRANSACTION }),
    );
  });
});

describe('Function: pollStatus', () => {
  it('throws StaleSessionError when a reused session answers that its transaction failed', async () => {
    const { deps } = unitDeps();
    redshift
      .on(DescribeStatementCommand)
      .resolves({ Id: 'st-1', Status: 'FAILED', Error: FAILED_TRANSACTION });

    const error = await refusal(pollStatus(runningState(), deps, { remainingMs: 60_000 }));

    expect(error).toBeInstanceOf(StaleSessionError);
  });

  it('reports a failed batch with the index of the statement that failed', async () => {
    const { deps } = unitDeps();
    redshift.on(DescribeStatementCommand).resolves({
      Id: 'b-1',
      Status: 'FAILED',
      Error: 'ERROR: division by zero',
      SubStatements: [
        { Id: 'b-1:1', Status: 'FINISHED' },
        { Id: 'b-1:2', Status: 'FAILED' },
        { Id: 'b-1:3', Status: 'ABORTED' },
      ],
    });

    const next = await pollStatus(runningState({ statementId: 'b-1' }), deps, {
      remainingMs: 60_000,
    });

    expect(next.statement).toEqual(
      expect.objectContaining({ failedIndex: 1, subStatuses: ['FINISHED', 'FAILED', 'ABORTED'] }),
    );
  });
});

describe('Function: releaseSession', () => {
  it('drops the session from the pool instead of releasing it when the SQL left state', async () => {
    // Prepare
    const { deps, count } = unitDeps();
    const state = runningState(
      { status: 'FINISHED' },
      { query: queryOf({ leavesSessionState: true }) },
    );

    // Act
    const outcome = await releaseSession(
      { outcome: 'SUCCEEDED', executionArn: EXECUTION_ARN, state },
      deps,
    );

    // Assess
    expect(outcome).toEqual({ released: false, dropped: true });
    expect(ddb).toReceiveCommandWith(DeleteCommand, {
      Key: { pool_id: 'acme#tenant_acme', session_id: 'sess-1' },
    });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(count('SessionDiscarded')).toBe(1);
  });

  it('drops it after a failure too, and names the failed statement of a batch', async () => {
    // Prepare
    const { deps } = unitDeps();
    const state = runningState(
      {
        status: 'FAILED',
        error: 'ERROR: division by zero',
        failedIndex: 1,
        subStatuses: ['FINISHED', 'FAILED', 'ABORTED'],
      },
      { query: queryOf({ leavesSessionState: true, batchSize: 3 }) },
    );

    // Act
    const outcome = await releaseSession(
      { outcome: 'FAILED', executionArn: EXECUTION_ARN, state },
      deps,
    );

    // Assess
    expect(outcome.dropped).toBe(true);
    expect(outcome.failure?.error).toBe('QueryFailedError');
    const cause = JSON.parse(outcome.failure?.cause ?? '{}');
    expect(cause.message).toBe('statements[1] (statement 2 of 3) failed');
    expect(cause.redshiftError).toBe('ERROR: division by zero');
    expect(cause.statementIndex).toBe(1);
    expect(cause.statements).toEqual([
      { index: 0, status: 'FINISHED' },
      { index: 1, status: 'FAILED' },
      { index: 2, status: 'ABORTED' },
    ]);
  });

  it('releases the session of SQL that changes nothing beyond itself', async () => {
    const { deps } = unitDeps();
    const state = runningState({ status: 'FINISHED' });

    const outcome = await releaseSession(
      { outcome: 'SUCCEEDED', executionArn: EXECUTION_ARN, state },
      deps,
    );

    expect(outcome).toEqual({ released: true });
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(0);
  });
});

describe('Function: fetchResults', () => {
  const column = (name: string) => ({ name, typeName: 'int4' });

  it('returns each statement of a batch, its result sets, and the last one at the top level', async () => {
    // Prepare
    const { deps } = unitDeps();
    redshift.on(DescribeStatementCommand).resolves({
      Id: 'b-1',
      Status: 'FINISHED',
      SubStatements: [
        { Id: 'b-1:1', Status: 'FINISHED', HasResultSet: false, ResultRows: 2 },
        { Id: 'b-1:2', Status: 'FINISHED', HasResultSet: true, ResultRows: 1 },
        { Id: 'b-1:3', Status: 'FINISHED', HasResultSet: true, ResultRows: 2 },
      ],
    });
    redshift
      .on(GetStatementResultCommand, { Id: 'b-1:2' })
      .resolves({ ColumnMetadata: [column('a')], Records: [[{ longValue: 7 }]], TotalNumRows: 1 });
    redshift.on(GetStatementResultCommand, { Id: 'b-1:3' }).resolves({
      ColumnMetadata: [column('b')],
      Records: [[{ longValue: 1 }], [{ longValue: 2 }]],
      TotalNumRows: 2,
    });
    const state = runningState(
      { statementId: 'b-1', status: 'FINISHED' },
      { query: queryOf({ batchSize: 3 }) },
    );

    // Act
    const result = await fetchResults(state, deps);

    // Assess
    const set = (name: string, rows: number[][]) => ({
      columns: [{ name, type: 'int4' }],
      rows,
      rowCount: rows.length,
      totalRows: rows.length,
      truncated: false,
    });
    expect(result).toEqual({
      tenantId: 'acme',
      statementId: 'b-1',
      sessionId: 'sess-1',
      sessionReused: true,
      ...set('b', [[1], [2]]),
      statements: [
        {
          index: 0,
          statementId: 'b-1:1',
          status: 'FINISHED',
          hasResultSet: false,
          rowsAffected: 2,
        },
        {
          index: 1,
          statementId: 'b-1:2',
          status: 'FINISHED',
          hasResultSet: true,
          result: set('a', [[7]]),
        },
        {
          index: 2,
          statementId: 'b-1:3',
          status: 'FINISHED',
          hasResultSet: true,
          result: set('b', [[1], [2]]),
        },
      ],
    });
  });
});
