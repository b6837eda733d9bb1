import { describe, expect, it } from 'vitest';
import type { HygieneSuite } from './context.ts';

/**
 * `statements` run as one batch: all committed or all rolled back, each on its own with
 * `transaction: false`, a temporary table seen by the batch's own statements, shared parameters.
 */

export function describeBatches(suite: HygieneSuite): void {
  const { query, succeeded, tenantWithTable, rowsCounted, insertsAroundAFailure } = suite;

  describe('statements', () => {
    it('commits all of a batch, with each statement and its result', async () => {
      // Prepare
      const { tenantId, table } = await tenantWithTable('batch');

      // Act
      const output = await succeeded({
        tenantId,
        statements: [
          `insert into ${table} values (1), (2)`,
          `select x from ${table} order by x`,
          `insert into ${table} values (3)`,
          `select count(*) as n from ${table}`,
        ],
      });

      // Assess
      const statements = output.statements as Record<string, unknown>[];
      expect(statements.map((s) => [s.index, s.status, s.hasResultSet, s.rowsAffected])).toEqual([
        [0, 'FINISHED', false, 2],
        [1, 'FINISHED', true, undefined],
        [2, 'FINISHED', false, 1],
        [3, 'FINISHED', true, undefined],
      ]);
      const selected = statements[1]?.result as Record<string, unknown> | undefined;
      expect(selected?.rows).toEqual([[1], [2]]);
      expect(output.rows).toEqual([[3]]);
      expect(output.columns).toEqual([{ name: 'n', type: 'int8' }]);
      expect(statements[3]?.statementId).toBe(`${output.statementId}:4`);
    });

    it('rolls all of a batch back when one statement fails, and names it', async () => {
      // Prepare
      const { tenantId, table } = await tenantWithTable('rollback');

      // Act
      const failed = await query({
        tenantId,
        statements: insertsAroundAFailure(table),
      });
      const count = await rowsCounted(tenantId, table);

      // Assess
      expect(failed.error).toBe('QueryFailedError');
      expect(failed.cause?.message).toBe('statements[1] (statement 2 of 3) failed');
      expect(String(failed.cause?.redshiftError)).toMatch(/^ERROR: division by zero/);
      expect(failed.cause?.statementIndex).toBe(1);
      expect(count).toEqual([[0]]);
    });

    it('commits each statement on its own with transaction: false', async () => {
      // Prepare
      const { tenantId, table } = await tenantWithTable('autocommit');

      // Act
      const failed = await query({
        tenantId,
        transaction: false,
        statements: insertsAroundAFailure(table),
      });
      const count = await rowsCounted(tenantId, table);

      // Assess
      expect(failed.error).toBe('QueryFailedError');
      expect(failed.cause?.statements).toEqual([
        { index: 0, status: 'FINISHED' },
        { index: 1, status: 'FAILED' },
        { index: 2, status: 'ABORTED' },
      ]);
      expect(count).toEqual([[1]]);
    });

    it("shows a batch's temporary table to its own later statements only", async () => {
      // Prepare
      const { tenantId } = await tenantWithTable('temp');

      // Act
      const batch = await succeeded({
        tenantId,
        statements: ['create temp table scratch as select 7 as n', 'select n from scratch'],
      });
      const later = await query({ tenantId, sql: 'select n from scratch' });

      // Assess
      expect(batch.rows).toEqual([[7]]);
      expect(later.status).toBe('FAILED');
      expect(later.cause?.redshiftError).toBe('ERROR: relation "scratch" does not exist');
    });

    it('binds parameters shared by the batch', async () => {
      const { tenantId, table } = await tenantWithTable('params');

      const output = await succeeded({
        tenantId,
        statements: [
          `insert into ${table} values (:a), (:b)`,
          `select sum(x) from ${table} where x >= :a`,
        ],
        parameters: [
          { name: 'a', value: '5' },
          { name: 'b', value: '6' },
        ],
      });

      expect(output.rows).toEqual([[11]]);
    });

    it.each([
      [{ statements: Array.from({ length: 41 }, () => 'select 1') }, 'got 41'],
      [{ sql: 'select 1', statements: ['select 1'] }, 'sql and statements cannot both be given'],
    ])('refuses %#: 41 statements, or sql with statements', async (fields, message) => {
      const refused = await query({ tenantId: 'acme', ...fields });

      expect(refused.error).toBe('InvalidInputError');
      expect(String(refused.cause?.message)).toContain(message);
    });
  });
}
