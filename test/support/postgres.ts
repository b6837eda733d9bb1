import { afterAll, beforeAll } from 'vitest';
import { type PostgresServer, startPostgres } from '../../local/postgres-cluster.ts';

/**
 * A throwaway PostgreSQL server for the calling test file: started before its tests (which takes
 * seconds, hence the timeout) and removed after them. Gives the server's URL, to read once the
 * file's tests run.
 */
export function useThrowawayPostgres(): () => string {
  let server: PostgresServer | undefined;

  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  });

  return () => {
    if (!server) throw new Error('The throwaway PostgreSQL server has not started');
    return server.url;
  };
}
