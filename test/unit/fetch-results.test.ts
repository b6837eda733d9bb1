import {
  DescribeStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { fetchResults } from '../../functions/fetch-results.ts';
import { runningState } from '../support/query-state.ts';
import { unitDeps } from '../support/unit-deps.ts';

const redshift = mockClient(RedshiftDataClient);
const columns = [
  { name: 'id', typeName: 'int8' },
  { name: 'name', typeName: 'varchar' },
];
const finished = runningState({ status: 'FINISHED', hasResultSet: true });

describe('Function: fetchResults', () => {
  beforeEach(() => {
    redshift.reset();
  });

  it('reads every page by NextToken and returns typed rows', async () => {
    // Prepare
    const { deps } = unitDeps();
    redshift
      .on(GetStatementResultCommand, { Id: 'st-1', NextToken: undefined })
      .resolves({
        ColumnMetadata: columns,
        TotalNumRows: 3,
        Records: [[{ longValue: 1 }, { stringValue: 'a' }]],
        NextToken: 'p2',
      })
      .on(GetStatementResultCommand, { Id: 'st-1', NextToken: 'p2' })
      .resolves({
        ColumnMetadata: columns,
        TotalNumRows: 3,
        Records: [[{ longValue: 2 }, { isNull: true }]],
        NextToken: 'p3',
      })
      .on(GetStatementResultCommand, { Id: 'st-1', NextToken: 'p3' })
      .resolves({
        ColumnMetadata: columns,
        TotalNumRows: 3,
        Records: [[{ longValue: 3 }, { stringValue: 'c' }]],
      });

    // Act
    const result = await fetchResults(finished, deps);

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
  });

  it('stops at the byte budget, marks the result truncated and reads no further page', async () => {
    // Prepare: 1,000 rows of ~1 KB on the first page, far over a 10 KB budget
    const { deps } = unitDeps({ SPECTRA_RESULT_INLINE_MAX_BYTES: '10240' });
    const records = Array.from({ length: 1000 }, (_, i) => [
      { longValue: i },
      { stringValue: 'x'.repeat(1000) },
    ]);
    redshift.on(GetStatementResultCommand).resolves({
      ColumnMetadata: columns,
      TotalNumRows: 5000,
      Records: records,
      NextToken: 'more',
    });

    // Act
    const result = await fetchResults(finished, deps);

    // Assess
    expect(result.truncated).toBe(true);
    expect(result.totalRows).toBe(5000);
    expect(result.rowCount).toBe(result.rows.length);
    expect(result.rowCount).toBeGreaterThan(5);
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(10240);
    expect(redshift).toReceiveCommandTimes(GetStatementResultCommand, 1);
  });

  it('keeps the output under 256 KiB at the largest budget, whatever the query returns', async () => {
    const { deps } = unitDeps({ SPECTRA_RESULT_INLINE_MAX_BYTES: '250000' });
    const records = Array.from({ length: 2000 }, () => [
      { longValue: 1 },
      { stringValue: 'é'.repeat(400) },
    ]);
    redshift
      .on(GetStatementResultCommand)
      .resolves({ ColumnMetadata: columns, TotalNumRows: 2000, Records: records });

    const result = await fetchResults(finished, deps);

    expect(result.truncated).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(250_000);
  });

  it('returns int8 values beyond 2^53 and decimals as strings, so no digits are invented', async () => {
    const { deps } = unitDeps();
    redshift.on(GetStatementResultCommand).resolves({
      ColumnMetadata: [
        { name: 'big', typeName: 'int8' },
        { name: 'small', typeName: 'int8' },
        { name: 'price', typeName: 'numeric' },
        { name: 'ratio', typeName: 'float8' },
        { name: 'ok', typeName: 'bool' },
      ],
      TotalNumRows: 1,
      Records: [
        [
          { longValue: 2 ** 60 },
          { longValue: 42 },
          { stringValue: '12345678901234567890.12' },
          { doubleValue: 0.5 },
          { booleanValue: true },
        ],
      ],
    });

    const result = await fetchResults(finished, deps);

    expect(result.rows).toEqual([
      ['1152921504606846976', 42, '12345678901234567890.12', 0.5, true],
    ]);
  });

  it('reports the rows affected for a statement without a result set', async () => {
    const { deps } = unitDeps();
    redshift
      .on(DescribeStatementCommand)
      .resolves({ Id: 'st-1', Status: 'FINISHED', HasResultSet: false, ResultRows: 7 });

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
});
