import { DescribeStatementCommand, GetStatementResultCommand } from '@aws-sdk/client-redshift-data';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { fetchResults } from '../../../functions/fetch-results.ts';
import { releaseSession } from '../../../functions/release-session.ts';
import { ddb, redshift } from '../../support/mocked-clients.ts';
import { queryOf, runningState } from '../../support/query-state.ts';
import { EXECUTION_ARN, unitDeps } from '../../support/unit-deps.ts';
import * as fx from './fixtures.ts';

/**
 * Which sessions ReleaseSession drops rather than gives back, and the results FetchResults returns
 * for each statement of a batch.
 */

beforeEach(fx.idlePool);

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
