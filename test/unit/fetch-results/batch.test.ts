import { DescribeStatementCommand, GetStatementResultCommand } from '@aws-sdk/client-redshift-data';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SubmittedState } from '../../../functions/common/workflow-state.ts';
import { fetchResults } from '../../../functions/fetch-results.ts';
import { redshift } from '../../support/mocked-clients.ts';
import { runningState } from '../../support/query-state.ts';
import { unitDeps } from '../../support/unit-deps.ts';
import * as fx from './fixtures.ts';

/**
 * FetchResults for a batch of statements: each result set inline or in the bucket within one output
 * budget, and the row limit applied to each.
 */

describe('Function: fetchResults', () => {
  describe('of a batch', () => {
    const BATCH_PREFIX = 'results/spectra-query/run-1/b-1:';
    const batchState = (query: Partial<SubmittedState['query']> = {}) =>
      runningState(
        { statementId: 'b-1', status: 'FINISHED' },
        { query: { ...fx.finished.query, batchSize: 3, ...query } },
      );
    /** Sub-statement `b-1:<n>` returns `count` rows `[i]`, on pages of 1,000. */
    function serveSet(n: number, count: number) {
      const pages = Math.max(1, Math.ceil(count / 1000));
      for (let page = 0; page < pages; page++) {
        redshift
          .on(GetStatementResultCommand, {
            Id: `b-1:${n}`,
            NextToken: page === 0 ? undefined : `p${page}`,
          })
          .resolves({
            ColumnMetadata: [{ name: `n${n}`, typeName: 'int4' }],
            TotalNumRows: count,
            Records: Array.from({ length: Math.min(1000, count - page * 1000) }, (_, i) => [
              { longValue: 100_000 + page * 1000 + i },
            ]),
            NextToken: page + 1 < pages ? `p${page + 1}` : undefined,
          });
      }
    }
    const expectedRows = (count: number) => Array.from({ length: count }, (_, i) => [100_000 + i]);

    beforeEach(() => {
      redshift.on(DescribeStatementCommand).resolves({
        Id: 'b-1',
        Status: 'FINISHED',
        SubStatements: [
          { Id: 'b-1:1', Status: 'FINISHED', HasResultSet: true },
          { Id: 'b-1:2', Status: 'FINISHED', HasResultSet: false, ResultRows: 4 },
          { Id: 'b-1:3', Status: 'FINISHED', HasResultSet: true },
        ],
      });
    });

    it('keeps the whole output within the inline budget, writing each result set that does not fit to the bucket', async () => {
      // Prepare: two result sets of 2,000 rows (about 16 KB each) against a 20,000-byte budget
      const { deps } = unitDeps({ SPECTRA_RESULT_INLINE_MAX_BYTES: '20000' });
      serveSet(1, 2000);
      serveSet(3, 2000);

      // Act
      const result = await fetchResults(batchState(), deps);

      // Assess: within the budget, nothing cut, and every row of both sets in the bucket
      expect(fx.outputBytes(result)).toBeLessThanOrEqual(20_000);
      const [first, , last] = result.statements ?? [];
      expect(first?.result?.result?.location).toBe(
        `s3://spectra-results/${BATCH_PREFIX}1/manifest.json`,
      );
      expect(last?.result?.result?.location).toBe(
        `s3://spectra-results/${BATCH_PREFIX}3/manifest.json`,
      );
      const objects = fx.uploads();
      for (const n of [1, 3]) {
        expect(fx.linesOf(objects.get(`${BATCH_PREFIX}${n}/rows.jsonl.gz`) as Buffer)).toEqual(
          expectedRows(2000),
        );
      }
      // The top level is the last set: the same preview and the same written result
      expect(result.result).toEqual(last?.result?.result);
      expect(result.rows).toEqual(last?.result?.rows);
      expect(result.rows).toEqual(expectedRows(result.rowCount));
      expect(result.rowCount).toBeGreaterThan(0);
      expect([result.truncated, first?.result?.truncated]).toEqual([false, false]);
      expect(result.totalRows).toBe(2000);
    });

    it('keeps a small result set inline beside a large one that is written', async () => {
      // Prepare
      const { deps } = unitDeps();
      serveSet(1, 3);
      serveSet(3, 50_000);

      // Act
      const result = await fetchResults(batchState(), deps);

      // Assess
      expect(result.statements?.[0]?.result).toEqual({
        columns: [{ name: 'n1', type: 'int4' }],
        rows: expectedRows(3),
        rowCount: 3,
        totalRows: 3,
        truncated: false,
      });
      expect(result.statements?.[1]).toMatchObject({ hasResultSet: false, rowsAffected: 4 });
      expect(result.result?.rows).toBe(50_000);
      expect(fx.linesOf(fx.uploads().get(`${BATCH_PREFIX}3/rows.jsonl.gz`) as Buffer)).toEqual(
        expectedRows(50_000),
      );
      expect(fx.uploads().has(`${BATCH_PREFIX}1/rows.jsonl.gz`)).toBe(false);
      expect(fx.outputBytes(result)).toBeLessThanOrEqual(200_000);
    });

    it('applies rowLimit to each result set', async () => {
      // Prepare
      const { deps } = unitDeps();
      serveSet(1, 10);
      serveSet(3, 3);

      // Act
      const result = await fetchResults(batchState({ rowLimit: 5 }), deps);

      // Assess
      expect(result.statements?.[0]?.result).toMatchObject({
        rows: expectedRows(5),
        totalRows: 10,
        truncated: true,
      });
      expect(result).toMatchObject({ rows: expectedRows(3), totalRows: 3, truncated: false });
    });
  });
});
