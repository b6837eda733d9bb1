import { describe } from 'vitest';
import { createPostgresEngine } from '../../local/redshift-data/postgres-engine.ts';
import { useThrowawayPostgres } from '../support/postgres.ts';
import { describeDataApiSuite } from './data-api-suite.ts';
import { postgresEngineSuite } from './postgres-engine/context.ts';
import { describeRealDataApiSessions } from './postgres-engine/data-api-sessions.ts';
import { describeLifecycle } from './postgres-engine/lifecycle.ts';
import { describeLogins } from './postgres-engine/logins.ts';
import { describeSecurity } from './postgres-engine/security.ts';
import { describeSessions } from './postgres-engine/sessions.ts';
import { describeStatements } from './postgres-engine/statements.ts';
import { describeEngineContract } from './sql-engine-suite.ts';

/**
 * The PostgreSQL engine, the shared Data API suite on it, and what only real per-session
 * connections give, all on the one throwaway PostgreSQL server this file starts (which takes
 * seconds). The parts are in test/local/postgres-engine/.
 */

const serverUrl = useThrowawayPostgres();

describe('Engine: PostgreSQL', () => {
  const suite = postgresEngineSuite(serverUrl);

  describeEngineContract(suite.engine, () => suite.connect('alice'));
  describeLogins(suite);
  describeSessions(suite);
  describeSecurity(suite);
  describeStatements(suite);
  describeLifecycle(suite);
});

describeDataApiSuite('PostgreSQL', () => createPostgresEngine(serverUrl()));

describeRealDataApiSessions(serverUrl);
