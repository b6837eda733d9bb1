import { describe, expect, it } from 'vitest';
import {
  type EngineConnection,
  EngineError,
  type SqlEngine,
} from '../../local/redshift-data/sql-engine.ts';
import { rejectionOf } from './data-api/context.ts';

/**
 * What every SqlEngine answers alike, whatever runs the SQL behind it: a tenant's statement's
 * values and their types, its parameters and its errors, and the superuser's statements. Each engine's test file calls
 * it inside its own describe; what an engine does its own way stays in that file.
 */

/** Resolves with the EngineError `promise` rejected with; fails the test otherwise. */
export async function engineError(promise: Promise<unknown>): Promise<EngineError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(EngineError);
  return error as EngineError;
}

/**
 * @param engine the engine under test, once its file has started it
 * @param connect a new connection as a database user that exists
 */
export function describeEngineContract(
  engine: () => SqlEngine,
  connect: () => Promise<EngineConnection>,
): void {
  describe('Contract: SqlEngine', () => {
    describe('Method: run', () => {
      it('returns PostgreSQL text values with their type OIDs', async () => {
        // Prepare
        const connection = await connect();

        // Act
        const result = await connection.run(
          `SELECT 42::int4 AS i4, 9007199254740993::int8 AS i8, 1.50::numeric(4,2) AS num,
             12345678901234567890.125::numeric AS wide, true AS flag,
             TIMESTAMP '2024-01-02 03:04:05.678' AS ts, 'naïve'::text AS label,
             NULL::text AS missing`,
          [],
        );

        // Assess: int8 beyond 2^53 and numeric keep every digit.
        expect(result).toEqual({
          columns: [
            { name: 'i4', typeOid: 23, tableOid: 0 },
            { name: 'i8', typeOid: 20, tableOid: 0 },
            { name: 'num', typeOid: 1700, tableOid: 0 },
            { name: 'wide', typeOid: 1700, tableOid: 0 },
            { name: 'flag', typeOid: 16, tableOid: 0 },
            { name: 'ts', typeOid: 1114, tableOid: 0 },
            { name: 'label', typeOid: 25, tableOid: 0 },
            { name: 'missing', typeOid: 25, tableOid: 0 },
          ],
          rows: [
            [
              '42',
              '9007199254740993',
              '1.50',
              '12345678901234567890.125',
              't',
              '2024-01-02 03:04:05.678',
              'naïve',
              null,
            ],
          ],
          rowCount: 1,
          command: 'SELECT',
          hasResultSet: true,
        });
      });

      it('reports the OID of the table a column comes from', async () => {
        // Prepare: a table every user may read, gone after the test
        await engine().admin('CREATE TABLE engine_contract_venue (venueid smallint)');
        await engine().admin('GRANT SELECT ON engine_contract_venue TO PUBLIC');
        try {
          const connection = await connect();
          const table = await engine().admin("SELECT 'engine_contract_venue'::regclass::oid");

          // Act
          const result = await connection.run(
            'SELECT venueid, venueid + 1 AS next FROM engine_contract_venue',
            [],
          );

          // Assess
          expect(result.columns).toEqual([
            { name: 'venueid', typeOid: 21, tableOid: Number(table.rows[0]?.[0]) },
            { name: 'next', typeOid: 23, tableOid: 0 },
          ]);
        } finally {
          await engine().admin('DROP TABLE engine_contract_venue');
        }
      });

      it('binds parameters as untyped text that PostgreSQL casts', async () => {
        // Prepare
        const connection = await connect();

        // Act
        const result = await connection.run('SELECT $1::int + 1 AS next, $2 AS label', ['41', 'x']);

        // Assess
        expect(result.rows).toEqual([['42', 'x']]);
      });

      it('throws EngineError worded like Redshift, with the SQLSTATE', async () => {
        // Prepare
        const connection = await connect();

        // Act
        const error = await engineError(connection.run('SELECT * FROM no_such_table', []));

        // Assess
        expect(error.message).toBe('ERROR: relation "no_such_table" does not exist');
        expect(error.sqlState).toBe('42P01');
      });

      it('throws for several statements at once: a statement is one statement', async () => {
        // Prepare
        const connection = await connect();

        // Act
        const error = await engineError(connection.run('SELECT 1; SELECT 2', []));

        // Assess
        expect(error.sqlState).toBe('42601');
      });
    });

    describe('Method: admin', () => {
      it('runs as the superuser, with or without parameters', async () => {
        // Act
        const plain = await engine().admin(
          'SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user',
        );
        const bound = await engine().admin('SELECT $1::int * 2', ['21']);

        // Assess
        expect(plain.rows).toEqual([['postgres', 't']]);
        expect(bound.rows).toEqual([['42']]);
      });
    });
  });
}
