import { describe, expect, it } from 'vitest';
import { engineError } from '../sql-engine-suite.ts';
import type { PostgresEngineSuite } from './context.ts';

/**
 * The PostgreSQL engine (local/redshift-data/postgres-engine.ts): running statements and scripts on
 * a connection: result sets, rows affected, and a failing statement.
 */

export function describeStatements({ connect }: PostgresEngineSuite): void {
  describe('Method: run', () => {
    it('reports a result set with zero rows', async () => {
      // Prepare
      const alice = await connect('alice');

      // Act
      const result = await alice.run('SELECT 1 AS one WHERE false', []);

      // Assess
      expect(result).toEqual({
        columns: [{ name: 'one', typeOid: 23, tableOid: 0 }],
        rows: [],
        rowCount: 0,
        command: 'SELECT',
        hasResultSet: true,
      });
    });

    it('reports rows affected from the command tag and -1 for DDL', async () => {
      // Prepare
      const alice = await connect('alice');

      // Act
      const created = await alice.run('CREATE TEMP TABLE counted (x int)', []);
      const inserted = await alice.run('INSERT INTO counted VALUES (1), (2), (3)', []);
      const updated = await alice.run('UPDATE counted SET x = x + 1 WHERE x > 1', []);

      // Assess
      expect(created).toEqual({
        columns: [],
        rows: [],
        rowCount: -1,
        command: 'CREATE',
        hasResultSet: false,
      });
      expect(inserted).toMatchObject({ rowCount: 3, command: 'INSERT', hasResultSet: false });
      expect(updated).toMatchObject({ rowCount: 2, command: 'UPDATE', hasResultSet: false });
    });
  });

  describe('Method: runScript', () => {
    it('runs several statements in the session', async () => {
      // Prepare
      const alice = await connect('alice');

      // Act
      await alice.runScript?.(
        'CREATE TEMP TABLE batch (x int); INSERT INTO batch VALUES (1), (2); UPDATE batch SET x = x * 10',
      );
      const result = await alice.run('SELECT sum(x) FROM batch', []);

      // Assess
      expect(result.rows).toEqual([['30']]);
    });

    it('throws EngineError for a failing statement in the script', async () => {
      // Prepare
      const alice = await connect('alice');

      // Act
      const error = await engineError(
        alice.runScript?.('SELECT 1; SELECT * FROM no_such_table') ?? Promise.resolve(),
      );

      // Assess
      expect(error.sqlState).toBe('42P01');
    });
  });
}
