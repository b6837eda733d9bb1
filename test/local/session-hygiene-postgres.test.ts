import { afterAll, beforeAll } from 'vitest';
import { type PostgresServer, startPostgres } from '../../local/postgres-cluster.ts';
import { describeSessionHygieneSuite } from './session-hygiene-suite.ts';

let server: PostgresServer;

beforeAll(async () => {
  server = await startPostgres();
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describeSessionHygieneSuite('PostgreSQL', () => server.url);
