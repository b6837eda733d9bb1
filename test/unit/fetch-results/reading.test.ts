import { GetStatementResultCommand } from '@aws-sdk/client-redshift-data';
import { describe, expect, it } from 'vitest';
import { fetchResults, handler } from '../../../functions/fetch-results.ts';
import { lambdaContext, refusedState } from '../../support/lambda-context.ts';
import { redshift, s3 } from '../../support/mocked-clients.ts';
import { acquiredState, runningState } from '../../support/query-state.ts';
import * as answers from '../../support/service-answers.ts';
import { unitDeps } from '../../support/unit-deps.ts';
import * as fx from './fixtures.ts';

/**
 * FetchResults reading a statement's result from the Data API: every page, the row and byte limits,
 * exact numbers, a result too large for the Data API, a statement without a result set, and a state
 * without a statement.
 */

describe('Function: fetchResults', () => {
  it('reads every page by NextToken and returns typed rows', async () => {
    // Prepare
    const { deps } = unitDeps();
    fx.resultPages(fx.columns, [
      [[{ longValue: 1 }, { stringValue: 'a' }]],
      [[{ longValue: 2 }, { isNull: true }]],
      [[{ longValue: 3 }, { stringValue: 'c' }]],
    ]);

    // Act
    const result = await fetchResults(fx.finished, deps);

    // Assess
    expect(result).toEqual({
      tenantId: 'acme',
      statementId: 'st-1',
      sessionId: 'sess-1',
      sessionReused: true,
      columns: [
        { name: 'id', type: 'int8' },
        { name: 'name', type: 'varchar' },
      ],
      rows: [
        [1, 'a'],
        [2, null],
        [3, 'c'],
      ],
      rowCount: 3,
      totalRows: 3,
      truncated: false,
    });
    expect(redshift).toReceiveCommandTimes(GetStatementResultCommand, 3);
    expect(s3.calls()).toHaveLength(0);
  });

  it('stops at rowLimit, marking the result truncated only when rows were left out', async () => {
    const { deps } = unitDeps();
    fx.servePages(25, 10);

    const cut = await fetchResults(
      runningState(fx.finished.statement, { query: { ...fx.finished.query, rowLimit: 12 } }),
      deps,
    );
    expect(cut.rows.map((row) => row[0])).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(cut.truncated).toBe(true);
    expect(cut.totalRows).toBe(25);
    // The limit ended the result within the second page: the third was never read.
    expect(redshift).toReceiveCommandTimes(GetStatementResultCommand, 2);

    redshift.reset();
    fx.servePages(25, 10);
    const exact = await fetchResults(
      runningState(fx.finished.statement, { query: { ...fx.finished.query, rowLimit: 25 } }),
      deps,
    );
    expect(exact.rowCount).toBe(25);
    expect(exact.truncated).toBe(false);
  });

  it('stops before the row that would take the JSON Lines past byteLimit', async () => {
    const { deps } = unitDeps();
    fx.servePages(100, 50);
    // Each line is `[i,"row"]\n`: 10 bytes for i < 10, 11 up to 99.
    const limit = 10 * 10 + 11 * 5 + 3;

    const cut = await fetchResults(
      runningState(fx.finished.statement, { query: { ...fx.finished.query, byteLimit: limit } }),
      deps,
    );

    expect(cut.rowCount).toBe(15);
    expect(cut.truncated).toBe(true);
    expect(redshift).toReceiveCommandTimes(GetStatementResultCommand, 1);
  });

  it('returns int8 values beyond 2^53 and decimals as strings, so no digits are invented', async () => {
    const { deps } = unitDeps();
    fx.resultPages(
      [
        { name: 'big', typeName: 'int8' },
        { name: 'small', typeName: 'int8' },
        { name: 'price', typeName: 'numeric' },
        { name: 'ratio', typeName: 'float8' },
        { name: 'ok', typeName: 'bool' },
      ],
      [
        [
          [
            { longValue: 2 ** 60 },
            { longValue: 42 },
            { stringValue: '12345678901234567890.12' },
            { doubleValue: 0.5 },
            { booleanValue: true },
          ],
        ],
      ],
    );

    const result = await fetchResults(fx.finished, deps);

    expect(result.rows).toEqual([
      ['1152921504606846976', 42, '12345678901234567890.12', 0.5, true],
    ]);
  });

  it('fails with ResultTooLargeError, pointing to UNLOAD, when the Data API refuses the result for its size', async () => {
    const { deps } = unitDeps();
    fx.resultTooLarge();

    await expect(fetchResults(fx.finished, deps)).rejects.toMatchObject({
      name: 'ResultTooLargeError',
      message: expect.stringContaining('UNLOAD'),
      details: { statementId: 'st-1' },
    });
  });

  it('reports the rows affected for a statement without a result set', async () => {
    const { deps } = unitDeps();
    answers.statementIs('FINISHED', { HasResultSet: false, ResultRows: 7 });

    const result = await fetchResults(runningState({ status: 'FINISHED' }), deps);

    expect(result).toEqual(
      expect.objectContaining({
        columns: [],
        rows: [],
        rowCount: 0,
        totalRows: 7,
        truncated: false,
      }),
    );
    expect(redshift).not.toReceiveCommand(GetStatementResultCommand);
  });

  it('refuses, through its handler, a state it cannot read, naming the step and the field', async () => {
    await expect(handler(acquiredState(), lambdaContext)).rejects.toMatchObject(
      refusedState('FetchResults', 'statement'),
    );
    expect(redshift.calls()).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
  });
});
