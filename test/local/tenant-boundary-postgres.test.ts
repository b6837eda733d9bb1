import { afterAll, beforeAll } from 'vitest';
import { type PostgresServer, startPostgres } from '../../local/postgres-cluster.ts';
import { describeTenantBoundarySuite } from './tenant-boundary-suite.ts';

let server: PostgresServer;

beforeAll(async () => {
  server = await startPostgres();
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describeTenantBoundarySuite('PostgreSQL', () => server.url);
