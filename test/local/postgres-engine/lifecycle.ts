import { describe, expect, it } from 'vitest';
import { createPostgresEngine } from '../../../local/redshift-data/postgres-engine.ts';
import { engineError } from '../sql-engine-suite.ts';
import { type PostgresEngineSuite, until } from './context.ts';

/**
 * The PostgreSQL engine (local/redshift-data/postgres-engine.ts): starting an engine (its shims
 * loaded, an unreachable server) and closing it.
 */

export function describeLifecycle({ engine, connect, serverUrl }: PostgresEngineSuite): void {
  describe('Function: createPostgresEngine', () => {
    it('loads the Redshift shims, so Redshift functions work for tenants', async () => {
      // Prepare
      const alice = await connect('alice');

      // Act
      const result = await alice.run(
        "SELECT nvl(NULL::int, 3), dateadd('day', 1, TIMESTAMP '2024-02-28 10:00'), getdate(), current_setting('TimeZone')",
        [],
      );

      // Assess
      expect(result.columns.map((column) => column.typeOid)).toEqual([23, 1114, 1114, 25]);
      expect(result.rows[0]?.slice(0, 2)).toEqual(['3', '2024-02-29 10:00:00']);
      expect(result.rows[0]?.[3]).toBe('UTC');
    });

    it('throws EngineError when the server cannot be reached', async () => {
      // Prepare: port 1 is privileged and never a PostgreSQL server here.
      const unreachable = 'postgres://postgres@127.0.0.1:1/postgres';

      // Act
      const error = await engineError(createPostgresEngine(unreachable));

      // Assess
      expect(error.message).toMatch(/^ERROR: connect ECONNREFUSED/);
    });
  });

  describe('Method: close', () => {
    it('ends every connection the engine opened', async () => {
      // Prepare
      const own = await createPostgresEngine(serverUrl());
      await own.createUser('erin');
      const connection = await own.connect('erin');
      const pid = String(connection.backendPid);

      // Act
      await own.close();

      // Assess
      await engineError(connection.run('SELECT 1', []));
      // The backend exits shortly after the client says goodbye.
      await until(async () => {
        const left = await engine().admin('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
        return left.rows.length === 0;
      });
    });

    it('throws EngineError for a connect after close', async () => {
      // Prepare
      const own = await createPostgresEngine(serverUrl());
      await own.close();

      // Act
      const error = await engineError(own.connect('erin'));

      // Assess
      expect(error.message).toBe('ERROR: the engine is closed');
    });
  });
}
